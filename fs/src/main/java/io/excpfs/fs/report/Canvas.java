package io.excpfs.fs.report;

/** Where a chart is drawn: the same drawing calls produce the page's inline SVG and the PNG. Coordinates in pixels. */
sealed interface Canvas permits SvgCanvas, RasterCanvas {
    enum Anchor { START, MIDDLE, END }

    void rect(double x, double y, double w, double h, String fill);

    void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed);

    /** An open polyline through the points. */
    void polyline(double[] xs, double[] ys, String color, double width);

    void dot(double x, double y, double r, String color);

    /** Text whose baseline starts, centres or ends at (x, y); {@code rotated} turns it 90° counter-clockwise. */
    void text(double x, double y, String s, Anchor anchor, int size, String color, boolean bold, boolean rotated);
}
