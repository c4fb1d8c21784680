package org.bizid.keycloak.validator;

/**
 * Japan's corporate number (法人番号): 13 digits, the first a check digit over the other twelve, per the
 * National Tax Agency's published algorithm. Counting the 12 base digits from the right (n = 1..12), weight 1
 * for odd n and 2 for even n; check digit = 9 - (weighted sum mod 9).
 */
public final class CorporateNumber {

    public static final int LENGTH = 13;

    private CorporateNumber() {
    }

    /** True for exactly 13 ASCII digits (full-width or other Unicode digits are not accepted). */
    public static boolean hasValidFormat(String value) {
        if (value == null || value.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The check digit for the 12 base digits (positions 2..13 of a corporate number).
     *
     * @throws IllegalArgumentException unless {@code base} is exactly 12 ASCII digits
     */
    public static int checkDigit(String base) {
        if (base == null || base.length() != LENGTH - 1 || !hasValidFormat("0" + base)) {
            throw new IllegalArgumentException("expected 12 digits");
        }
        int sum = 0;
        for (int n = 1; n <= LENGTH - 1; n++) {
            int digit = base.charAt(base.length() - n) - '0';
            sum += digit * (n % 2 == 1 ? 1 : 2);
        }
        return 9 - (sum % 9);
    }

    /** The check digit the number should have; only for values with {@link #hasValidFormat}. */
    public static int expectedCheckDigit(String number) {
        return checkDigit(number.substring(1));
    }

    public static boolean isValid(String number) {
        return hasValidFormat(number) && number.charAt(0) - '0' == expectedCheckDigit(number);
    }
}
