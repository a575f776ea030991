-- indexer.lua — an inverted index (6.824's mrapps/indexer): for every word,
-- the documents it appears in.  map emits (word, filename) once per distinct
-- word of the file; reduce answers "N doc1,doc2,...": the N distinct
-- documents, sorted.  Words are maximal runs of ASCII letters, as in wc.lua.
--
-- Written in the other style an app may take: a returned table, and pairs
-- as { key = k, value = v }.

local function map(document, contents)
  local seen, kvs = {}, {}
  for word in contents:gmatch("[A-Za-z]+") do
    if not seen[word] then
      seen[word] = true
      kvs[#kvs + 1] = { key = word, value = document }  -- in order of first use: deterministic
    end
  end
  return kvs
end

local function reduce(word, documents)
  local seen, docs = {}, {}
  for _, d in ipairs(documents) do
    if not seen[d] then
      seen[d] = true
      docs[#docs + 1] = d
    end
  end
  table.sort(docs)
  return #docs .. " " .. table.concat(docs, ",")
end

return { map = map, reduce = reduce }
