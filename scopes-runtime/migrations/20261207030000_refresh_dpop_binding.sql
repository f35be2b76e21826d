-- A refresh-token family bound to the DPoP key its login proved (RFC 9449 §5): the thumbprint of that key,
-- which every refresh of the family must prove again. NULL for a family of bearer tokens.
ALTER TABLE refresh_families ADD COLUMN dpop_jkt TEXT;
