package org.bizid.keycloak.notify;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Properties;

/**
 * The notification texts (bizid-notify/messages.properties, shared with realm/notify.py) and how a
 * mail is composed from them: a Japanese and an English part in one message.
 */
public final class Notices {
    static final String RESOURCE = "/bizid-notify/messages.properties";
    private static final DateTimeFormatter JST =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'JST'").withZone(ZoneId.of("Asia/Tokyo"));

    /** A composed mail. */
    public record Mail(String subject, String text) {}

    private final Properties messages;

    public Notices(Properties messages) {
        this.messages = messages;
    }

    public static Notices load() {
        Properties props = new Properties();
        try (InputStream in = Notices.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the extension jar");
            }
            try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                props.load(reader);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
        return new Notices(props);
    }

    public boolean knows(String kind) {
        for (String part : new String[] {"subject.ja", "subject.en", "body.ja", "body.en"}) {
            if (messages.getProperty(kind + "." + part) == null) {
                return false;
            }
        }
        return true;
    }

    public Mail compose(String kind, String username, Instant when, String detail) {
        if (!knows(kind)) {
            throw new IllegalArgumentException("no notification text for " + kind);
        }
        Map<String, String> values = Map.of(
                "username", username,
                "time", JST.format(when),
                "detail", detail == null ? "" : detail);
        Map<String, String> parts = Map.of(
                "subject_ja", fill(messages.getProperty(kind + ".subject.ja"), values),
                "subject_en", fill(messages.getProperty(kind + ".subject.en"), values),
                "body_ja", fill(messages.getProperty(kind + ".body.ja"), values),
                "body_en", fill(messages.getProperty(kind + ".body.en"), values),
                "username", values.get("username"),
                "time", values.get("time"));
        return new Mail(
                fill(messages.getProperty("mail.subject"), parts), fill(messages.getProperty("mail.body"), parts));
    }

    /** Replace each {name}; a value is never re-scanned, so a username with braces stays as it is. */
    static String fill(String template, Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            int close = open < 0 ? -1 : template.indexOf('}', open);
            if (open < 0 || close < 0) {
                out.append(template, i, template.length());
                break;
            }
            String name = template.substring(open + 1, close);
            out.append(template, i, open);
            out.append(values.containsKey(name) ? values.get(name) : template.substring(open, close + 1));
            i = close + 1;
        }
        return out.toString();
    }

    /** The text as a minimal HTML part (escaped, line breaks kept), for clients that show HTML only. */
    public static String html(String text) {
        String escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        return "<html><body><pre style=\"font-family: sans-serif; white-space: pre-wrap\">" + escaped
                + "</pre></body></html>";
    }

    /** a***@example.jp: enough to tell mails apart in a log, not enough to know the person. */
    public static String mask(String address) {
        if (address == null) {
            return "-";
        }
        int at = address.lastIndexOf('@');
        if (at <= 0) {
            return "***";
        }
        return address.charAt(0) + "***" + address.substring(at);
    }
}
