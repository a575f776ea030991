-- early_exit.lua — does a worker, or the coordinator, quit before the job is
-- done?  (6.824's mrapps/early_exit.)  map emits (filename, "1"); reduce
-- counts.  The reduce of one key sleeps 3 virtual seconds, so its partition
-- finishes long after the others: a process that exits once the others are
-- done, and not when every reduce task is, leaves that output missing or
-- late.  The slow key is the file named like text-03 (the shipped corpus)
-- or, in 6.824's inputs, the ones about Sherlock or Tom.

local function slow(key)
  return key:find("text%-03") or key:find("sherlock") or key:find("tom")
end

function map(filename, contents)
  return { { filename, "1" } }
end

function reduce(key, values)
  if slow(key) then
    mr.sleep(3)
  end
  return tostring(#values)
end
