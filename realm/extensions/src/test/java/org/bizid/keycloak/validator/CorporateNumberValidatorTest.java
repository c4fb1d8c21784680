package org.bizid.keycloak.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.text.MessageFormat;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.keycloak.validate.ValidationContext;
import org.keycloak.validate.ValidationError;
import org.keycloak.validate.ValidatorConfig;

class CorporateNumberValidatorTest {

    private static ValidationContext validate(Object value) {
        return CorporateNumberValidator.INSTANCE.validate(value, "corporate_number", new ValidationContext(),
                ValidatorConfig.EMPTY);
    }

    private static String render(ValidationError error) throws Exception {
        Properties messages = new Properties();
        try (InputStream in = CorporateNumberValidator.class.getResourceAsStream(
                "/theme-resources/messages/messages_en.properties")) {
            assertNotNull(in, "messages_en.properties is packaged");
            messages.load(new InputStreamReader(in, StandardCharsets.UTF_8));
        }
        String pattern = messages.getProperty(error.getMessage());
        assertNotNull(pattern, "default text for " + error.getMessage());
        return new MessageFormat(pattern, Locale.ENGLISH).format(error.getInputHintWithMessageParameters());
    }

    @Test
    void idMatchesTheContract() {
        assertEquals("bizid-corporate-number", CorporateNumberValidator.INSTANCE.getId());
    }

    @Test
    void acceptsValidNumbers() {
        assertTrue(validate("7000012050002").isValid());
        assertTrue(validate(List.of("5010401089998")).isValid());
    }

    @Test
    void acceptsEmptyAndAbsent() {
        assertTrue(validate(null).isValid());
        assertTrue(validate("").isValid());
        assertTrue(validate(List.of()).isValid());
        assertTrue(validate(Arrays.asList((String) null)).isValid());
    }

    @Test
    void wrongCheckDigitHasAClearMessage() throws Exception {
        ValidationContext context = validate("1000012050002");
        assertFalse(context.isValid());
        ValidationError error = context.getErrors().iterator().next();
        assertEquals(CorporateNumberValidator.MESSAGE_CHECK_DIGIT, error.getMessage());
        assertEquals("Corporate number 1000012050002: check digit is 1, expected 7", render(error));
    }

    @Test
    void wrongFormatHasAClearMessage() throws Exception {
        ValidationContext context = validate("12345");
        assertFalse(context.isValid());
        ValidationError error = context.getErrors().iterator().next();
        assertEquals(CorporateNumberValidator.MESSAGE_FORMAT, error.getMessage());
        assertEquals("Corporate number 12345: must be exactly 13 digits (0-9)", render(error));
    }

    @Test
    void blankAndNonStringValuesAreRejected() {
        assertFalse(validate(" ").isValid());
        assertFalse(validate(7000012050002L).isValid());
    }

    @Test
    void everyValueOfAMultivaluedAttributeIsChecked() {
        assertFalse(validate(List.of("7000012050002", "1000012050002")).isValid());
    }
}
