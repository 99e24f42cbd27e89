-- wrk script: 16 pipelined requests per write (issue 16's pipelined row).
-- Each write carries 16 copies of the request wrk would send; wrk counts
-- the 16 responses that come back as 16 requests.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil, "/")
  end
  burst = table.concat(requests)
end

request = function()
  return burst
end
