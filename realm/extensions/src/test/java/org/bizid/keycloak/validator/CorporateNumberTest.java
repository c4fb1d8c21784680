package org.bizid.keycloak.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CorporateNumberTest {

    @ParameterizedTest
    @ValueSource(strings = {"7000012050002", "5010401089998"})
    void publishedExamplesAreValid(String number) {
        assertTrue(CorporateNumber.isValid(number));
    }

    @Test
    void checkDigitFollowsTheNtaFormula() {
        // base 000012050002: from the right 2*1 + 5*1 + 2*1 + 1*2 = 11; 9 - 11 mod 9 = 7
        assertEquals(7, CorporateNumber.checkDigit("000012050002"));
        assertEquals(5, CorporateNumber.checkDigit("010401089998"));
        // sum a multiple of 9 gives check digit 9
        assertEquals(9, CorporateNumber.checkDigit("000000000000"));
    }

    @Test
    void wrongCheckDigitIsInvalid() {
        assertFalse(CorporateNumber.isValid("1000012050002"));
        assertEquals(7, CorporateNumber.expectedCheckDigit("1000012050002"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "700001205000", "70000120500020", "70000120500O2", " 7000012050002",
            "7000012050002 ", "７000012050002", "-700001205000", "7000-12050002"})
    void wrongFormatIsInvalid(String number) {
        assertFalse(CorporateNumber.hasValidFormat(number));
        assertFalse(CorporateNumber.isValid(number));
    }

    @Test
    void everyDigitChangeIsCaught() {
        // The weights 1/2 make any single-digit change of the base change the check digit
        // (except 0<->9 at weight 1, which mod 9 cannot see); make sure we agree with that property.
        String valid = "5010401089998";
        for (int i = 1; i < 13; i++) {
            for (char c = '0'; c <= '9'; c++) {
                if (c == valid.charAt(i)) {
                    continue;
                }
                String changed = valid.substring(0, i) + c + valid.substring(i + 1);
                int delta = Math.abs(c - valid.charAt(i));
                int weight = (13 - i) % 2 == 1 ? 1 : 2;
                boolean invisible = (delta * weight) % 9 == 0;
                assertEquals(invisible, CorporateNumber.isValid(changed), changed);
            }
        }
    }

    @Test
    void checkDigitRejectsBadBase() {
        assertThrows(IllegalArgumentException.class, () -> CorporateNumber.checkDigit("12345"));
        assertThrows(IllegalArgumentException.class, () -> CorporateNumber.checkDigit("00001205000x"));
    }
}
