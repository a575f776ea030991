-- wc.lua — word count, the MapReduce paper's first example (§2.1) and
-- 6.824's mrapps/wc.  A word is a maximal run of ASCII letters, case kept
-- ("The" and "the" are two words).  map emits (word, "1") for every
-- occurrence; reduce counts them.
--
--   termscope mr-seq wc assets/corpus/*.txt      -> mr-out-0: "word count" lines

function map(filename, contents)
  local kvs, n = {}, 0
  for word in contents:gmatch("[A-Za-z]+") do
    n = n + 1
    kvs[n] = { word, "1" }
  end
  return kvs
end

function reduce(key, values)
  return tostring(#values)
end
