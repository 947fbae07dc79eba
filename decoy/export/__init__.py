"""The court evidence bundle: a streamed ZIP with transcripts, reports, attachments and audit proofs."""
