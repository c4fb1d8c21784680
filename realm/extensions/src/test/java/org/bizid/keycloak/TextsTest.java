package org.bizid.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bizid.keycloak.bruteforce.WaitingBruteForceProtector;
import org.junit.jupiter.api.Test;

class TextsTest {

    @Test
    void theBusyPageSaysItInJapaneseThenEnglish() {
        assertEquals(
                "このアカウントの別のサインインが処理中です。しばらく待ってから、もう一度サインインしてください。"
                        + " / Another sign-in to this account is in progress. Please wait a moment and sign in again.",
                WaitingBruteForceProtector.BUSY_MESSAGE);
    }

    @Test
    void anUnknownKeyIsAnError() {
        assertThrows(IllegalStateException.class, () -> Texts.text("noSuchText"));
    }
}
