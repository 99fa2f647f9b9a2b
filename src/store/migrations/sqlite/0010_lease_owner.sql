-- 0010_lease_owner: who holds a notification's lease — the dispatcher
-- instance (a random id made at each start) that claimed it. A server that
-- starts can then tell the leases of a process that died from its own and
-- make those notifications due at once instead of after the lease.
ALTER TABLE notifications ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
