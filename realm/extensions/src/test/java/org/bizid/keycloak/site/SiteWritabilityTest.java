package org.bizid.keycloak.site;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bizid.keycloak.site.SiteWritability.State;
import org.junit.jupiter.api.Test;

class SiteWritabilityTest {

    @Test
    void writableOnlyWhenTheQuerySaysTrue() {
        assertEquals(State.WRITABLE, SiteWritability.of(() -> Boolean.TRUE));
        assertEquals(State.READ_ONLY, SiteWritability.of(() -> Boolean.FALSE));
        assertEquals(State.READ_ONLY, SiteWritability.of(() -> null));
        assertEquals(State.READ_ONLY, SiteWritability.of(() -> "t"));
    }

    @Test
    void aFailingQueryIsUnreachableNotWritable() {
        assertEquals(State.UNREACHABLE, SiteWritability.of(() -> {
            throw new IllegalStateException("An I/O error occurred while sending to the backend.");
        }));
    }

    @Test
    void aDriverRefusingANonPrimaryServerMeansReadOnly() {
        RuntimeException refused = new IllegalStateException("Unable to acquire JDBC Connection",
                new java.sql.SQLException("Could not find a server with specified targetServerType: primary",
                        "08001"));
        assertEquals(State.READ_ONLY, SiteWritability.of(() -> {
            throw refused;
        }));
    }

    @Test
    void onlyABooleanTrueCounts() {
        assertTrue(SiteWritability.isTrue(Boolean.TRUE));
        assertFalse(SiteWritability.isTrue(Boolean.FALSE));
        assertFalse(SiteWritability.isTrue(null));
    }

    @Test
    void onlyTheWritableBodyCarriesTheMarker() {
        String marker = "\"writable\":true";
        assertTrue(State.WRITABLE.body().contains(marker));
        assertFalse(State.READ_ONLY.body().contains(marker));
        assertFalse(State.UNREACHABLE.body().contains(marker));
    }
}
