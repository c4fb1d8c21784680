package org.bizid.keycloak;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * bizid's own page texts, Japanese first, then English, from the jar resource {@code messages.properties}
 * next to this class. That file is generated from realm/login_texts.py (the one source of the texts;
 * tests/test_login_texts.py fails when it is stale).
 */
public final class Texts {

    static final String RESOURCE = "messages.properties";
    private static final Properties TEXTS = load();

    private Texts() {
    }

    /** The text of {@code key}; a missing key is a packaging error, reported when the class is used. */
    public static String text(String key) {
        String value = TEXTS.getProperty(key);
        if (value == null) {
            throw new IllegalStateException("no text " + key + " in " + RESOURCE);
        }
        return value;
    }

    private static Properties load() {
        Properties texts = new Properties();
        try (InputStream in = Texts.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the extension jar");
            }
            texts.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return texts;
    }
}
