package org.bizid.keycloak.validator;

import java.util.List;

import org.keycloak.provider.ConfiguredProvider;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.validate.AbstractStringValidator;
import org.keycloak.validate.ValidationContext;
import org.keycloak.validate.ValidationError;
import org.keycloak.validate.ValidatorConfig;

/**
 * {@code bizid-corporate-number}: user-profile validator for {@code corporate_number}.
 *
 * Empty or absent is accepted (sole proprietors have no corporate number; "required" is a separate rule).
 * Otherwise the value must be 13 ASCII digits with a correct NTA check digit. Messages are keys with English
 * defaults in {@code theme-resources/messages/messages_en.properties}; parameter {0} is the attribute name,
 * {1} the value, {2} the check digit found, {3} the one expected.
 */
public class CorporateNumberValidator extends AbstractStringValidator implements ConfiguredProvider {

    public static final String ID = "bizid-corporate-number";

    public static final String MESSAGE_FORMAT = "bizid-corporate-number-format";
    public static final String MESSAGE_CHECK_DIGIT = "bizid-corporate-number-check-digit";

    public static final CorporateNumberValidator INSTANCE = new CorporateNumberValidator();

    @Override
    public String getId() {
        return ID;
    }

    @Override
    protected boolean skipValidation(Object value, ValidatorConfig config) {
        // Always optional, whatever ignore.empty.value says: presence is the "required" rule's business.
        return value == null || (value instanceof String && ((String) value).isEmpty());
    }

    @Override
    protected void doValidate(String value, String inputHint, ValidationContext context, ValidatorConfig config) {
        if (!CorporateNumber.hasValidFormat(value)) {
            context.addError(new ValidationError(ID, inputHint, MESSAGE_FORMAT, value));
            return;
        }
        int found = value.charAt(0) - '0';
        int expected = CorporateNumber.expectedCheckDigit(value);
        if (found != expected) {
            context.addError(new ValidationError(ID, inputHint, MESSAGE_CHECK_DIGIT, value,
                    String.valueOf(found), String.valueOf(expected)));
        }
    }

    @Override
    public String getHelpText() {
        return "Japanese corporate number: 13 digits with the National Tax Agency check digit; empty is accepted.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }
}
