package io.weir.broker.network;

import io.weir.common.testing.MockTime;
import io.weir.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RequestStagesTest {
    @Test
    void shouldReportMicrosecondsFromReceiptToEachStageAndDashForStagesNotPassed() {
        MockTime time = new MockTime();
        long t0 = time.nanoseconds();
        RequestStages stages = new RequestStages(time, ApiKeys.FETCH.id(), 17, t0);
        time.sleep(1);
        stages.mark(RequestStages.Stage.DEQUEUED);
        time.sleep(2);
        stages.mark(RequestStages.Stage.RESPONDED);
        stages.mark(RequestStages.Stage.PICKED);
        time.sleep(1);
        stages.mark(RequestStages.Stage.WRITTEN);

        assertEquals("stages FETCH corr=17 conn=1-3 t0=" + t0
                + " us: dequeued=1000 parked=- woken=- responded=3000 picked=3000 written=4000",
            stages.describe("1-3"));
    }

    @Test
    void shouldKeepTheFirstStampOfAStage() {
        MockTime time = new MockTime();
        RequestStages stages = new RequestStages(time, ApiKeys.PRODUCE.id(), 1, time.nanoseconds());
        time.sleep(5);
        stages.mark(RequestStages.Stage.RESPONDED);
        long first = stages.stampNs(RequestStages.Stage.RESPONDED);
        time.sleep(5);
        stages.mark(RequestStages.Stage.RESPONDED);

        assertEquals(first, stages.stampNs(RequestStages.Stage.RESPONDED));
    }

    /** The offset a produce was appended at / a fetch read from ends the line, the first one noted. */
    @Test
    void shouldEndTheLineWithTheFirstNotedOffset() {
        MockTime time = new MockTime();
        long t0 = time.nanoseconds();
        RequestStages stages = new RequestStages(time, ApiKeys.PRODUCE.id(), 2, t0);
        stages.noteOffset(-1);
        stages.noteOffset(5120);
        stages.noteOffset(6000);
        time.sleep(1);
        stages.mark(RequestStages.Stage.WRITTEN);

        assertEquals("stages PRODUCE corr=2 conn=1-3 t0=" + t0
                + " us: dequeued=- parked=- woken=- responded=- picked=- written=1000 offset=5120",
            stages.describe("1-3"));
    }
}
