"""Writes of the casework app, one module per part (residents, cases, groups, records,
referrals, privacy). Each service validates, writes and audits in one transaction."""
