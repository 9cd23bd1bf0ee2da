package io.excpfs.fs.report;

import java.util.Locale;

/** Draws into an inline {@code <svg>} element (no external fonts, scripts or styles). */
final class SvgCanvas implements Canvas {
    private final StringBuilder out = new StringBuilder();
    private final int width;
    private final int height;

    SvgCanvas(int width, int height, String label) {
        this.width = width;
        this.height = height;
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height).append("\" role=\"img\" aria-label=\"")
                .append(HtmlPage.escape(label)).append("\" font-family=\"sans-serif\">\n");
    }

    private static String n(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    @Override public void rect(double x, double y, double w, double h, String fill) {
        out.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(w))
                .append("\" height=\"").append(n(h)).append("\" fill=\"").append(fill).append("\"/>\n");
    }

    @Override public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
        out.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
                .append("\" y2=\"").append(n(y2)).append("\" stroke=\"").append(color).append("\" stroke-width=\"").append(n(width))
                .append(dashed ? "\" stroke-dasharray=\"4 3" : "").append("\"/>\n");
    }

    @Override public void polyline(double[] xs, double[] ys, String color, double width) {
        out.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"").append(n(width))
                .append("\" stroke-linejoin=\"round\" points=\"");
        for (int i = 0; i < xs.length; i++) out.append(i == 0 ? "" : " ").append(n(xs[i])).append(',').append(n(ys[i]));
        out.append("\"/>\n");
    }

    @Override public void dot(double x, double y, double r, String color) {
        out.append("<circle cx=\"").append(n(x)).append("\" cy=\"").append(n(y)).append("\" r=\"").append(n(r))
                .append("\" fill=\"").append(color).append("\"/>\n");
    }

    @Override public void text(double x, double y, String s, Anchor anchor, int size, String color, boolean bold, boolean rotated) {
        out.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"").append(size)
                .append("\" fill=\"").append(color).append("\" text-anchor=\"").append(switch (anchor) {
                    case START -> "start";
                    case MIDDLE -> "middle";
                    case END -> "end";
                }).append('"');
        if (bold) out.append(" font-weight=\"bold\"");
        if (rotated) out.append(" transform=\"rotate(-90 ").append(n(x)).append(' ').append(n(y)).append(")\"");
        out.append('>').append(HtmlPage.escape(s)).append("</text>\n");
    }

    String finish() {
        return out + "</svg>";
    }

    int width() { return width; }

    int height() { return height; }
}
