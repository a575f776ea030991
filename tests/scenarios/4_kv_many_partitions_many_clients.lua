-- 6.824 kvraft, TestManyPartitionsManyClients4A, re-expressed for termscope.
-- As 4_kv_many_partitions_one_client with five clients: random two-way
-- splits of the servers every 1-1.2 s while every client appends to and
-- reads its own key; exact gets, every append present once and in order
-- after each of three rounds, no snapshots, a linearizable history.
-- (Rounds of 1.5 virtual s, not 5.)
-- seed: 5
require("lib.kvtest").generic{ nclients = 5, nservers = 5, partitions = true, secs = 1.5 }
