package org.bizid.keycloak.loa;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReachedLevelTest {

    @Test
    void aRecordedLevelIsUsedAsIs() {
        assertEquals(2, ReachedLevel.effective(2, false));
        assertEquals(1, ReachedLevel.effective(1, true));
        assertEquals(0, ReachedLevel.effective(0, false));
    }

    @Test
    void noLevelRecordedIsOneForAFreshAuthenticationAndZeroForSso() {
        // Keycloak's AcrProtocolMapper rule, so the policy judges the level the acr claim states.
        assertEquals(1, ReachedLevel.effective(-1, false));
        assertEquals(0, ReachedLevel.effective(-1, true));
    }
}
