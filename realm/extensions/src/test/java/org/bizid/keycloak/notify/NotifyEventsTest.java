package org.bizid.keycloak.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;

class NotifyEventsTest {

    @Test
    void credentialEventsMapToTheirNotification() {
        assertEquals("registration", NotifyEvents.kindOf(EventType.REGISTER, Map.of()));
        assertEquals("password-changed",
                NotifyEvents.kindOf(EventType.UPDATE_CREDENTIAL, Map.of("credential_type", "password")));
        assertEquals("second-factor-added",
                NotifyEvents.kindOf(EventType.UPDATE_CREDENTIAL, Map.of("credential_type", "otp")));
        assertEquals("second-factor-removed",
                NotifyEvents.kindOf(EventType.REMOVE_CREDENTIAL, Map.of("credential_type", "webauthn")));
    }

    @Test
    void deprecatedDuplicatesAndOtherEventsSendNothing() {
        assertNull(NotifyEvents.kindOf(EventType.UPDATE_PASSWORD, Map.of()));
        assertNull(NotifyEvents.kindOf(EventType.UPDATE_TOTP, Map.of()));
        assertNull(NotifyEvents.kindOf(EventType.LOGIN, Map.of()));
        assertNull(NotifyEvents.kindOf(EventType.REMOVE_CREDENTIAL, Map.of("credential_type", "password")));
        assertNull(NotifyEvents.kindOf(EventType.UPDATE_CREDENTIAL, null));
    }

    @Test
    void anOperatorDeletingACredentialIsARemoval() {
        assertEquals("second-factor-removed",
                NotifyEvents.adminKindOf(ResourceType.USER, OperationType.DELETE, "users/u1/credentials/c1"));
        assertEquals("second-factor-removed",
                NotifyEvents.adminKindOf(ResourceType.USER, OperationType.ACTION, "users/u1/credentials/c1"));
        assertNull(NotifyEvents.adminKindOf(ResourceType.USER, OperationType.DELETE, "users/u1"));
        assertNull(NotifyEvents.adminKindOf(
                ResourceType.USER, OperationType.ACTION, "users/u1/credentials/c1/moveToFirst"));
        assertNull(NotifyEvents.adminKindOf(ResourceType.USER, OperationType.UPDATE, "users/u1/credentials/c1"));
        assertEquals("u1", NotifyEvents.userIdOfAdminPath("users/u1/credentials/c1"));
    }

    @Test
    void everyMailHasBothLanguagesAndEveryKindIsWritten() {
        Notices notices = Notices.load();
        for (String kind : new String[] {"registration", "second-factor-added", "second-factor-removed",
                "password-changed", "account-suspended", "account-reactivated", "delegation-granted",
                "delegation-revoked", "delegation-expiring", "validity-expiring", "representative-changed"}) {
            assertTrue(notices.knows(kind), kind);
        }
        Notices.Mail mail = notices.compose("password-changed", "hanako-{x}", Instant.parse("2026-01-01T00:00:00Z"), "");
        assertEquals("[bizid] パスワードを変更しました / Your password was changed", mail.subject());
        assertTrue(mail.text().contains("アカウントのパスワードが変更されました。"));
        assertTrue(mail.text().contains("The password of your account was changed."));
        assertTrue(mail.text().contains("2026-01-01 09:00 JST"));
        assertTrue(mail.text().contains("hanako-{x}"));
    }

    @Test
    void addressesAreMaskedInLogs() {
        assertEquals("h***@example.test", Notices.mask("hanako@example.test"));
        assertEquals("***", Notices.mask("nope"));
        assertEquals("-", Notices.mask(null));
    }

    @Test
    void errorMessagesLoseTheirAddresses() {
        String described = NotifySender.describe(new IllegalStateException("550 rejected <hanako@example.test>"));
        assertEquals("IllegalStateException: 550 rejected <***@example.test>", described);
    }
}
