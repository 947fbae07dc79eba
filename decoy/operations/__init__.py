"""Operations, authorizations and decoy profiles."""
