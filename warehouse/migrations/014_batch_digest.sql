-- A batch's file fingerprint (issue 10, item 4): the SHA-256 of the file's bytes and of the
-- profile and options it was read with. A re-ingest of the file the warehouse loaded last, with
-- nothing loaded since, is recorded as the same again (`same_as`) after reading the file once,
-- instead of being staged, mapped and matched against every stored event to find nothing new.
-- The size says when the fingerprint is worth taking before reading: a file of another size than
-- the last batch's is hashed while it is read instead.
ALTER TABLE ingest_batches ADD COLUMN file_bytes BIGINT;
ALTER TABLE ingest_batches ADD COLUMN file_digest VARCHAR;
ALTER TABLE ingest_batches ADD COLUMN same_as VARCHAR;
