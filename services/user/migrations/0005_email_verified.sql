-- Set when the owner of the address follows the verification link (notification.email_verified).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
