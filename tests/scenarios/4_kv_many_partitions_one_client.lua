-- 6.824 kvraft, TestManyPartitionsOneClient4A, re-expressed for termscope.
-- One client, five servers; after 1 s the partitioner splits the servers
-- into two random groups every 1-1.2 s (clients still reach every server).
-- After each of three rounds the network is healed and a new term given a
-- second; the client's gets must have been exact and its appends must all
-- be in its key once, in order.  No snapshots; linearizable history.
-- (Rounds of 2 virtual s, not 5.)
-- seed: 4
require("lib.kvtest").generic{ nclients = 1, nservers = 5, partitions = true, secs = 2 }
