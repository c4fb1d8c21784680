package org.bizid.keycloak.loa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class TierLevelsTest {

    private static final String TABLE = "{\"entry\":1,\"prime\":2,\"member\":2,\"provisional-prime\":2}";

    @Test
    void readsTheTable() {
        TierLevels levels = TierLevels.parse(TABLE).orElseThrow();
        assertEquals(Optional.of(1), levels.levelOf("entry"));
        assertEquals(Optional.of(2), levels.levelOf("prime"));
        assertEquals(Optional.of(2), levels.levelOf("provisional-prime"));
    }

    @Test
    void unknownOrMissingTierHasNoLevel() {
        TierLevels levels = TierLevels.parse(TABLE).orElseThrow();
        assertTrue(levels.levelOf("Prime").isEmpty());
        assertTrue(levels.levelOf("admin").isEmpty());
        assertTrue(levels.levelOf(null).isEmpty());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"  ", "not json", "[1,2]", "2", "{\"prime\":\"2\"}", "{\"prime\":2.5}",
            "{\"prime\":-1}", "{\"prime\":null}", "{\"entry\":1,\"prime\":{}}"})
    void malformedTableIsRejectedWhole(String json) {
        assertTrue(TierLevels.parse(json).isEmpty());
    }

    @Test
    void raiseNeverLowers() {
        assertEquals(2, TierLevels.raise(-1, 2));
        assertEquals(2, TierLevels.raise(1, 2));
        assertEquals(2, TierLevels.raise(2, 1));
        assertEquals(3, TierLevels.raise(3, 2));
    }
}
