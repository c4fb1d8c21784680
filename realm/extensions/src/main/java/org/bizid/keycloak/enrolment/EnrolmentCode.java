package org.bizid.keycloak.enrolment;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The one-time enrolment code an operator issued with {@code bizid accounts reset-authenticator}, as stored in the
 * operator-only user attribute {@code enrolment_code} (realm/enrolment.py writes it; the format is shared):
 * {@code v1:<state>:<expires epoch seconds>:<failed attempts>:<salt hex>:<sha256 hex of salt + code>}.
 * Only the hash is stored; the code itself went to the holder by mail or letter.
 */
public record EnrolmentCode(String state, long expiresAt, int attempts, byte[] salt, String hash) {

    public static final String ATTRIBUTE = "enrolment_code";
    public static final String ISSUED = "issued";
    public static final String USED = "used";
    public static final String LOCKED = "locked";

    /** The stored record, or null when it is not one (treated as refused by the caller: fail closed). */
    public static EnrolmentCode parse(String value) {
        if (value == null) {
            return null;
        }
        String[] parts = value.split(":", -1);
        if (parts.length != 6 || !"v1".equals(parts[0])) {
            return null;
        }
        try {
            return new EnrolmentCode(parts[1], Long.parseLong(parts[2]), Integer.parseInt(parts[3]),
                    HexFormat.of().parseHex(parts[4]), parts[5].toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public String format() {
        return String.join(":", "v1", state, Long.toString(expiresAt), Integer.toString(attempts),
                HexFormat.of().formatHex(salt), hash);
    }

    public EnrolmentCode with(String newState, int newAttempts) {
        return new EnrolmentCode(newState, expiresAt, newAttempts, salt, hash);
    }

    /** What the holder typed, as the code is compared: upper case, without spaces and hyphens. */
    public static String normalise(String typed) {
        return typed == null ? "" : typed.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
    }

    /** Constant-time comparison of the typed code's salted hash with the stored one. */
    public boolean matches(String typed) {
        String code = normalise(typed);
        if (code.isEmpty()) {
            return false;
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(salt);
            byte[] computed = digest.digest(code.getBytes(StandardCharsets.UTF_8));
            byte[] stored = HexFormat.of().parseHex(hash);
            return MessageDigest.isEqual(computed, stored);
        } catch (NoSuchAlgorithmException | IllegalArgumentException e) {
            return false;
        }
    }
}
