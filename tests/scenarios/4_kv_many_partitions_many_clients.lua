-- 6.824 kvraft, TestManyPartitionsManyClients4A, re-expressed for termscope.
-- As 4_kv_many_partitions_one_client with five clients: random two-way
-- splits of the servers every 1-1.2 s while every client appends to and
-- reads its own key; exact gets, every append present once and in order
-- after each of three rounds, no snapshots, a linearizable history.
-- (Rounds of 0.5 s before the partitioner starts and 1.5 s with it, not
-- 1 s and 5 s.)
-- seed: 5
require("lib.kvtest").generic{ nclients = 5, nservers = 5, partitions = true, calm = 0.5, secs = 1.5 }
