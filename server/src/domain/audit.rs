//! What the audit log records: every action a person or a key can take, by its one name. The
//! merchant API's `AuditEntry.action` (server/openapi.json) lists exactly these.

use std::fmt;

/// An action written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    OrderCreate,
    OrderCancel,
    RefundCreate,
    KeyCreate,
    KeyRevoke,
    WebhookEndpointUpdate,
    WebhookEndpointRotateSecret,
    EventResend,
    AlertAcknowledge,
    AlertRuleUpdate,
    TestPaymentCreate,
    BackupTake,
    SetupProviderTerms,
    SetupCredentialsSet,
    SetupCredentialsRemove,
    GoLiveSwitch,
    LocationCreate,
    LocationUpdate,
    CounterCreate,
    CounterUpdate,
    CounterRetire,
    StaffCreate,
    StaffUpdate,
    StaffSignIn,
    StaffSignOut,
    StaffLocked,
    StaffPasswordChange,
    StaffTotpEnable,
    StaffTotpReplace,
    StaffTotpDisable,
}

impl AuditAction {
    /// Every action, in the order the API documents them.
    pub const ALL: [AuditAction; 30] = [
        AuditAction::OrderCreate,
        AuditAction::OrderCancel,
        AuditAction::RefundCreate,
        AuditAction::KeyCreate,
        AuditAction::KeyRevoke,
        AuditAction::WebhookEndpointUpdate,
        AuditAction::WebhookEndpointRotateSecret,
        AuditAction::EventResend,
        AuditAction::AlertAcknowledge,
        AuditAction::AlertRuleUpdate,
        AuditAction::TestPaymentCreate,
        AuditAction::BackupTake,
        AuditAction::SetupProviderTerms,
        AuditAction::SetupCredentialsSet,
        AuditAction::SetupCredentialsRemove,
        AuditAction::GoLiveSwitch,
        AuditAction::LocationCreate,
        AuditAction::LocationUpdate,
        AuditAction::CounterCreate,
        AuditAction::CounterUpdate,
        AuditAction::CounterRetire,
        AuditAction::StaffCreate,
        AuditAction::StaffUpdate,
        AuditAction::StaffSignIn,
        AuditAction::StaffSignOut,
        AuditAction::StaffLocked,
        AuditAction::StaffPasswordChange,
        AuditAction::StaffTotpEnable,
        AuditAction::StaffTotpReplace,
        AuditAction::StaffTotpDisable,
    ];

    /// The name stored and shown (`order.create`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::OrderCreate => "order.create",
            AuditAction::OrderCancel => "order.cancel",
            AuditAction::RefundCreate => "refund.create",
            AuditAction::KeyCreate => "key.create",
            AuditAction::KeyRevoke => "key.revoke",
            AuditAction::WebhookEndpointUpdate => "webhook_endpoint.update",
            AuditAction::WebhookEndpointRotateSecret => "webhook_endpoint.rotate_secret",
            AuditAction::EventResend => "event.resend",
            AuditAction::AlertAcknowledge => "alert.acknowledge",
            AuditAction::AlertRuleUpdate => "alert.rule.update",
            AuditAction::TestPaymentCreate => "testpay.create",
            AuditAction::BackupTake => "backup.take",
            AuditAction::SetupProviderTerms => "setup.provider_terms",
            AuditAction::SetupCredentialsSet => "setup.credentials.set",
            AuditAction::SetupCredentialsRemove => "setup.credentials.remove",
            AuditAction::GoLiveSwitch => "golive.switch",
            AuditAction::LocationCreate => "location.create",
            AuditAction::LocationUpdate => "location.update",
            AuditAction::CounterCreate => "counter.create",
            AuditAction::CounterUpdate => "counter.update",
            AuditAction::CounterRetire => "counter.retire",
            AuditAction::StaffCreate => "staff.create",
            AuditAction::StaffUpdate => "staff.update",
            AuditAction::StaffSignIn => "staff.sign_in",
            AuditAction::StaffSignOut => "staff.sign_out",
            AuditAction::StaffLocked => "staff.locked",
            AuditAction::StaffPasswordChange => "staff.password_change",
            AuditAction::StaffTotpEnable => "staff.totp_enable",
            AuditAction::StaffTotpReplace => "staff.totp_replace",
            AuditAction::StaffTotpDisable => "staff.totp_disable",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_name() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|action| action.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
