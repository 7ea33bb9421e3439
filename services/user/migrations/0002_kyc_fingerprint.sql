-- A keyed fingerprint of each KYC document number (HMAC, see KycVault): the same document on
-- two accounts is refused while one of them is pending or approved, without the number in
-- clear. Rows from before have none and never collide.
ALTER TABLE kyc ADD COLUMN document_fingerprint bytea;
CREATE UNIQUE INDEX kyc_document_fingerprint_key ON kyc (document_fingerprint)
    WHERE status <> 'rejected';
CREATE INDEX kyc_status_idx ON kyc (status, submitted_at, user_id);
