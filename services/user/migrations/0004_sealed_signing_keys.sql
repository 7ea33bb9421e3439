-- Private signing keys are stored sealed under auth.key_encryption_key ("v1." + base64 of
-- XChaCha20-Poly1305, the kid as associated data; services/user/src/key_vault.hpp). Rows from
-- before hold a plain PEM; the user service seals them when it next loads its keys.
COMMENT ON COLUMN signing_keys.private_pem IS
    'sealed private key: v1.<base64(nonce || ciphertext || tag)> under auth.key_encryption_key';
