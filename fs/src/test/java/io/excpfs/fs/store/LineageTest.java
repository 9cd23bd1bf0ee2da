package io.excpfs.fs.store;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LineageTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/out/ckpt.pt|/out/ckpt.pt|-1",
            "/run/checkpoint-500/model.safetensors|/run/checkpoint-*/model.safetensors|500",
            "/run/checkpoint-1500/optimizer.pt|/run/checkpoint-*/optimizer.pt|1500",
            "/lightning/epoch=3-step=900.ckpt|/lightning/epoch=*-step=*.ckpt|900",
            "/hf/checkpoint-20/model-00001-of-00002.safetensors|/hf/checkpoint-*/model-00001-of-00002.safetensors|20",
            "/run2/ckpt_1000.pt|/run2/ckpt_*.pt|1000",
            "/runs/run_1/ckpt.pt|/runs/run_1/ckpt.pt|1",
            "/ds/global_step500/mp_rank_00_model_states.pt|/ds/global_step*/mp_rank_00_model_states.pt|500",
            "/x/model_1000.pt|/x/model_1000.pt|1000",
            "/hf/tmp-checkpoint-40/optimizer.pt|/hf/tmp-checkpoint-*/optimizer.pt|40",
            "/a/iter_0004000/model.pt|/a/iter_*/model.pt|4000",
    })
    void keysAndSteps(String path, String key, long step) {
        assertEquals(key, Lineage.key(path));
        assertEquals(step, Lineage.step(path));
    }
}
