package io.weir.broker.transaction;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test-only fault seam {@link TransactionCoordinatorService#FAULT_MARKERS_DELAY_PROPERTY}: unset means no
 * delay; a value that is not a non-negative number fails the coordinator's start, naming the property, rather
 * than being ignored. (exactly-once-tests' PrepareCommitKill9Test uses it on a broker process.)
 */
class FaultMarkersDelayTest {
    @Test
    void shouldDelayNothingWhenUnset() {
        assertEquals(0, TransactionCoordinatorService.faultMarkersDelayMs(null));
        assertEquals(0, TransactionCoordinatorService.faultMarkersDelayMs(" "));
    }

    @Test
    void shouldReadADelayInMilliseconds() {
        assertEquals(3_600_000, TransactionCoordinatorService.faultMarkersDelayMs("3600000"));
        assertEquals(5, TransactionCoordinatorService.faultMarkersDelayMs(" 5 "));
    }

    @Test
    void shouldRefuseABadValueNamingTheProperty() {
        for (String bad : new String[] {"-1", "soon", "1.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TransactionCoordinatorService.faultMarkersDelayMs(bad));
            assertTrue(e.getMessage().contains(TransactionCoordinatorService.FAULT_MARKERS_DELAY_PROPERTY), e.getMessage());
        }
    }
}
