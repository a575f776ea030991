-- nocrash.lua — crash.lua's job without the crashes and the sleeps (6.824's
-- mrapps/nocrash): the output crash.lua must reproduce.
--
--   a  the files          b  their names' lengths     c  their sizes
--   d  "xyzzy" per file   w  their words (runs of letters)

local function words(s)
  local n = 0
  for _ in s:gmatch("[A-Za-z]+") do n = n + 1 end
  return n
end

function map(filename, contents)
  return {
    { "a", filename },
    { "b", tostring(#filename) },
    { "c", tostring(#contents) },
    { "d", "xyzzy" },
    { "w", tostring(words(contents)) },
  }
end

function reduce(key, values)
  local vv = {}
  for i, v in ipairs(values) do vv[i] = v end
  table.sort(vv)
  return table.concat(vv, " ")
end
