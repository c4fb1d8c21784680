package org.bizid.keycloak.registration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PasswordNotEmailTest {

    @Test
    void passwordEqualToTheEmailIgnoringCaseViolates() {
        assertTrue(PasswordNotEmail.violates("taro@example.test", "taro@example.test"));
        assertTrue(PasswordNotEmail.violates("Taro@Example.TEST", "taro@example.test"));
        assertTrue(PasswordNotEmail.violates(" taro@example.test ", "taro@example.test"));
    }

    @Test
    void otherPasswordsAndMissingEmailPass() {
        assertFalse(PasswordNotEmail.violates("a long random passphrase", "taro@example.test"));
        assertFalse(PasswordNotEmail.violates("taro@example.test", null));
        assertFalse(PasswordNotEmail.violates("taro@example.test", " "));
        assertFalse(PasswordNotEmail.violates(null, "taro@example.test"));
    }
}
