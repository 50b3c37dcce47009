/**
 * The Lua scripts. Each runs atomically on Redis, so concurrent nodes need no other coordination.
 * Kept as strings (not .lua files) so `tsc` ships them in dist/ with no copy step.
 *
 * Numbers: Lua numbers are doubles, and Redis turns a Lua number *argument* into text with 14
 * significant digits, which would corrupt a seq above 10^14 (seqs of a replacement epoch start
 * near 1.7e15). Every seq passed to redis.call is therefore formatted with `%d` first (`fmt`).
 */

const FMT = `local function fmt(x) return string.format('%d', x) end\n`;

/**
 * Redis's clock in ms (as text): room activity for idle expiry is stamped by Redis, so the nodes'
 * clocks never matter. TIME in a script is allowed with effects replication (Redis 5+, the default in 7).
 */
const NOW_MS = `local function now_ms() local t = redis.call('TIME') return string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000)) end\n`;

/** Fails the script with EPOCH unless Redis holds the caller's cluster epoch. KEYS[1] = chat:cluster, ARGV[1] = epoch. */
const EPOCH_CHECK = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return redis.error_reply('EPOCH ' .. (epoch or '')) end
`;

/**
 * Creates the cluster epoch once (HSETNX); returns {epoch, base, created (1|0)}.
 * KEYS: cluster. ARGV: candidate epoch, base for it, now ms.
 */
export const ENSURE_EPOCH = `
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'base', ARGV[2], 'created_ms', ARGV[3])
  return {ARGV[1], ARGV[2], 1}
end
return {redis.call('HGET', KEYS[1], 'epoch'), redis.call('HGET', KEYS[1], 'base') or '0', 0}
`;

/**
 * Commits drafts to one or more rooms (a node's round, see commit-rounds.ts): per room, returns
 * 0 when the room does not exist (NOROOM: nothing of it stored), else per draft {1, seq}
 * (stored) or {0, seq, message JSON or ''} (a retry of a stored client_msg_id), and PUBLISHes
 * the room's stored drafts as one batch. One EPOCH check for the call: a wrong epoch fails it all.
 * KEYS: cluster, then per room: meta, log, idem, live.
 * ARGV: epoch, retain (0 = keep all), batch head JSON (`{"t":"batch","node":"N"`), rooms,
 *       then per room: n, then per draft: idempotency key ('' = none), message JSON without its
 *       leading `{` and seq.
 */
export const COMMIT =
  FMT +
  EPOCH_CHECK +
  `
local retain = ARGV[2]
local a = 5
local results = {}
for r = 0, tonumber(ARGV[4]) - 1 do
  local meta, log, idem, live = KEYS[2 + r * 4], KEYS[3 + r * 4], KEYS[4 + r * 4], KEYS[5 + r * 4]
  local n = tonumber(ARGV[a])
  a = a + 1
  local seq = redis.call('HGET', meta, 'seq')
  if not seq then
    results[#results + 1] = 0
    a = a + n * 2
  else
    seq = tonumber(seq)
    local first = seq + 1
    local out = {}
    local published = {}
    for i = 1, n do
      local ikey = ARGV[a]
      local body = ARGV[a + 1]
      a = a + 2
      local known = false
      if ikey ~= '' then known = redis.call('ZSCORE', idem, ikey) end
      if known then
        local s = fmt(tonumber(known))
        local e = redis.call('XRANGE', log, s .. '-0', s .. '-0')
        local stored = ''
        if e[1] then stored = e[1][2][2] end
        out[#out + 1] = {0, tonumber(known), stored}
      else
        seq = seq + 1
        local id = fmt(seq)
        local msg = '{"seq":' .. id .. ',' .. body
        if retain == '0' then
          redis.call('XADD', log, id .. '-0', 'm', msg)
        else
          redis.call('XADD', log, 'MAXLEN', '~', retain, id .. '-0', 'm', msg)
        end
        if ikey ~= '' then redis.call('ZADD', idem, id, ikey) end
        out[#out + 1] = {1, seq}
        published[#published + 1] = msg
      end
    end
    if #published > 0 then
      redis.call('HSET', meta, 'seq', fmt(seq))
      -- Idempotency keys live as long as their message: trimmed past the stream's head every 128 seqs.
      if retain ~= '0' and math.floor(seq / 128) ~= math.floor((first - 1) / 128) then
        local head = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
        if head[1] then
          local fs = string.match(head[1][1], '^(%d+)')
          redis.call('ZREMRANGEBYSCORE', idem, '-inf', '(' .. fs)
        end
      end
      redis.call('PUBLISH', live, ARGV[3] .. ',"first":' .. fmt(first) .. ',"last":' .. fmt(seq) .. ',"messages":[' .. table.concat(published, ',') .. ']}')
    end
    results[#results + 1] = out
  end
end
return results
`;

/**
 * Creates a room unless it exists or the cluster holds `max` rooms already; returns
 * 'created' | 'exists' | 'full'. A room's meta (its seq) outlives the room, so a room created
 * again under an old id continues its seq instead of reusing one; a new room starts at the
 * epoch's base, and its settings (the creator's ownership) are written with it.
 * KEYS: cluster, rooms, meta, settings. ARGV: epoch, room key, record JSON, max (0 = none), settings JSON.
 */
export const CREATE_ROOM =
  NOW_MS +
  EPOCH_CHECK +
  `
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'exists' end
local max = tonumber(ARGV[4])
if max > 0 and redis.call('HLEN', KEYS[2]) >= max then return 'full' end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
-- A new room is empty: idle from now on (see EXPIRE_ROOM).
redis.call('ZADD', 'chat:roomactive', now_ms(), ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[3], 'seq', redis.call('HGET', KEYS[1], 'base') or '0')
end
-- The settings start over (a version above any earlier one: a stale node never prefers old ones).
redis.call('HINCRBY', KEYS[4], 'v', 1)
redis.call('HSET', KEYS[4], 'json', ARGV[5])
return 'created'
`;

/**
 * Raises a room's seq to at least ARGV[2] (never lowers it): after Redis came back from a crash
 * that lost acknowledged `everysec` writes, seqs a node already delivered are never reused.
 * Returns the seq. KEYS: cluster, meta. ARGV: epoch, seq.
 */
export const FLOOR =
  FMT +
  EPOCH_CHECK +
  `
local cur = redis.call('HGET', KEYS[2], 'seq')
if not cur then return redis.error_reply('NOROOM no such room') end
local want = tonumber(ARGV[2])
if want > tonumber(cur) then
  redis.call('HSET', KEYS[2], 'seq', fmt(want))
  return want
end
return tonumber(cur)
`;

/**
 * Claims a nick for node:session. Returns {'ok'} (free, or already this session's),
 * {'took_over', old node, old session} (the caller proved with its resume token that it is the
 * holder's client: the old node gets a kick on its channel), or {'taken', node, session}.
 * KEYS: nick, this node's own set.
 * ARGV: node, session, token hash for the new claim, display nick, presented token hash ('' none),
 *       nick key, kick JSON for the old node.
 */
export const CLAIM_NICK = `
local cur = redis.call('GET', KEYS[1])
local value = ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4]
local own = 'n:' .. ARGV[6] .. '\\0' .. ARGV[2]
-- chat:online lists every nick held (WHO with a mask reads it): kept with the nick key.
if not cur then
  redis.call('SET', KEYS[1], value)
  redis.call('SADD', KEYS[2], own)
  redis.call('HSET', 'chat:online', ARGV[6], ARGV[4])
  -- Every node's MONITOR hears a nick come online anywhere.
  redis.call('PUBLISH', 'chat:nicks', cjson.encode({t = 'nick', nick = ARGV[4], online = true}))
  return {'ok'}
end
local node, session, hash = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|')
if node == ARGV[1] and session == ARGV[2] then
  redis.call('SET', KEYS[1], value)
  redis.call('HSET', 'chat:online', ARGV[6], ARGV[4])
  return {'ok'}
end
if ARGV[5] ~= '' and hash == ARGV[5] then
  redis.call('SET', KEYS[1], value)
  redis.call('SADD', KEYS[2], own)
  redis.call('HSET', 'chat:online', ARGV[6], ARGV[4])
  -- The old holder's entry: its node would never release it (the nick is not its any more).
  redis.call('SREM', 'chat:node:' .. node .. ':own', 'n:' .. ARGV[6] .. '\\0' .. session)
  redis.call('PUBLISH', 'chat:node:' .. node, ARGV[7])
  return {'took_over', node, session}
end
return {'taken', node or '', session or ''}
`;

/**
 * A present member's new nick: updates its display nick and PUBLISHes the notice; 0 when it is
 * not present. KEYS: pres, pnick, live. ARGV: owner, nick, notice JSON.
 */
export const PRESENCE_RENAME = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[3], ARGV[3])
return 1
`;

/**
 * Sends a DM to whoever holds a nick, on whichever node: PUBLISHes
 * {"t":"dm","nick_key","session","dm"} on the holder's node channel and returns {node, session,
 * nick, away message or ''}, or false when nobody holds it. One step, so the DM goes to the holder of that moment.
 * KEYS: nick. ARGV: nick key, the DM JSON (without "to": the receiving node adds it).
 */
export const SEND_DM = `
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
local node, session, nick = string.match(cur, '^([^|]*)|([^|]*)|[^|]*|(.*)$')
redis.call('PUBLISH', 'chat:node:' .. node,
  '{"t":"dm","nick_key":' .. cjson.encode(ARGV[1]) .. ',"session":' .. cjson.encode(session) .. ',"dm":' .. ARGV[2] .. '}')
return {node, session, nick, redis.call('HGET', 'chat:away', ARGV[1]) or ''}
`;

/**
 * Replaces a room's settings if they are still at version ARGV[1] (compare and set, so two nodes
 * changing one room at once never lose a change), then PUBLISHes the notice every other node's
 * room takes them from: ARGV[2] .. new version .. ARGV[3]. Returns {1, version} or, when another
 * change came first, {0, version, json} (the caller takes those and tries again).
 * KEYS: settings, live. ARGV: expected version, notice head, notice tail, settings JSON.
 */
export const SAVE_SETTINGS = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return {0, v, redis.call('HGET', KEYS[1], 'json') or ''} end
v = v + 1
redis.call('HSET', KEYS[1], 'v', v, 'json', ARGV[4])
redis.call('PUBLISH', KEYS[2], ARGV[2] .. v .. ARGV[3])
return {1, v}
`;

/** Frees a nick if node:session still holds it; returns 1 or 0. KEYS: nick, own set. ARGV: node, session, nick key. */
export const RELEASE_NICK = `
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + #ARGV[2] + 2) == ARGV[1] .. '|' .. ARGV[2] .. '|' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], 'n:' .. ARGV[3] .. '\\0' .. ARGV[2], 'n:' .. ARGV[3])
  redis.call('HDEL', 'chat:away', ARGV[3])
  redis.call('HDEL', 'chat:online', ARGV[3])
  redis.call('PUBLISH', 'chat:nicks', cjson.encode({t = 'nick', nick = string.match(cur, '^[^|]*|[^|]*|[^|]*|(.*)$'), online = false}))
  return 1
end
return 0
`;

/**
 * Adds node:session to a room's presence unless there, or the room holds `max`; returns
 * 'joined' | 'already' | 'full' | 'noroom' (the room expired meanwhile) and PUBLISHes the notice on a join.
 * KEYS: pres, pnick, roomcounts, live, own set. ARGV: owner, nick, now ms, max (0 = none), room id, notice JSON.
 */
export const PRESENCE_JOIN = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 'already'
end
-- Expired (EXPIRE_ROOM) while this node still had its actor: nobody may join a removed room.
if redis.call('HEXISTS', 'chat:rooms', ARGV[5]) == 0 then return 'noroom' end
local max = tonumber(ARGV[4])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return 'full' end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
redis.call('SADD', KEYS[5], 'p:' .. ARGV[5] .. '\\0' .. ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[6])
return 'joined'
`;

/**
 * Removes node:session from a room's presence; returns 1 (and PUBLISHes the notice) or 0.
 * KEYS: pres, pnick, roomcounts, live, own set. ARGV: owner, room id, notice JSON.
 */
export const PRESENCE_LEAVE =
  NOW_MS +
  `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
-- The last member left: the room is idle from now (XX: kept rooms are not tracked).
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('ZADD', 'chat:roomactive', 'XX', now_ms(), ARGV[2]) end
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HINCRBY', KEYS[3], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
redis.call('SREM', KEYS[5], 'p:' .. ARGV[2] .. '\\0' .. ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[3])
return 1
`;

/**
 * Starts reaping a node whose lease expired (or, `force`, whatever an earlier process under this
 * node id left: a node starting up): moves its own set to its reap set (merged with one a reap
 * still in progress holds), so what the node claims from now on (it may come back) is never
 * reaped; takes it out of `chat:nodes` (so a node that comes back knows at its next renewal that
 * it was reaped) and puts it in `chat:reaping` (so any node continues a reap whose reaper died).
 * Returns the entries to reap, or -1 (and does nothing) when the lease exists again.
 * KEYS: lease, own set, chat:nodes, chat:reaping, reap set. ARGV: node id, force ('1' | '0').
 */
export const REAP_BEGIN = `
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('EXISTS', KEYS[5]) == 1 then
    redis.call('SUNIONSTORE', KEYS[5], KEYS[5], KEYS[2])
    redis.call('DEL', KEYS[2])
  else
    redis.call('RENAME', KEYS[2], KEYS[5])
  end
end
redis.call('SREM', KEYS[3], ARGV[1])
local left = redis.call('SCARD', KEYS[5])
if left > 0 then redis.call('SADD', KEYS[4], ARGV[1]) else redis.call('SREM', KEYS[4], ARGV[1]) end
return left
`;

/**
 * Reaps one slice (at most ARGV[3] entries) of a node's reap set (REAP_BEGIN): frees the nicks
 * its sessions still hold (compare on `node|session|`) and removes its sessions from each room's
 * presence, publishing `user_left` with ARGV[2] as the reason. Entries are popped, so two nodes
 * reaping at once share the work and nothing is announced twice; a presence another path removed
 * first (ZREM 0) is not announced again. Bounded, so Redis serves everybody else (lease renewals
 * above all) between slices. When the set is empty the node leaves `chat:reaping`.
 * Touches keys named by the entries, so it needs a single Redis (not Redis Cluster).
 * KEYS: reap set, chat:reaping. ARGV: node id, reason, slice size. Returns {sessions removed, entries left}.
 */
export const REAP_SLICE =
  NOW_MS +
  `
local node = ARGV[1]
local removed = 0
for _, item in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))) do
  local kind = string.sub(item, 1, 2)
  local rest = string.sub(item, 3)
  if kind == 'n:' then
    -- 'n:<nick key>\\0<session>'; entries written before sessions were named: the node only.
    local at = string.find(rest, '\\0', 1, true)
    local nkey, holder = rest, node .. '|'
    if at then nkey = string.sub(rest, 1, at - 1) holder = node .. '|' .. string.sub(rest, at + 1) .. '|' end
    local nk = 'chat:nick:' .. nkey
    local cur = redis.call('GET', nk)
    if cur and string.sub(cur, 1, #holder) == holder then
      redis.call('DEL', nk)
      redis.call('HDEL', 'chat:away', nkey)
      redis.call('HDEL', 'chat:online', nkey)
      redis.call('PUBLISH', 'chat:nicks', cjson.encode({t = 'nick', nick = string.match(cur, '^[^|]*|[^|]*|[^|]*|(.*)$'), online = false}))
    end
  elseif kind == 'p:' then
    local at = string.find(rest, '\\0', 1, true)
    if at then
      local room = string.sub(rest, 1, at - 1)
      local owner = string.sub(rest, at + 1)
      local tag = 'chat:{r:' .. room .. '}:'
      if redis.call('ZREM', tag .. 'pres', owner) == 1 then
        local nick = redis.call('HGET', tag .. 'pnick', owner) or '?'
        redis.call('HDEL', tag .. 'pnick', owner)
        if redis.call('HINCRBY', 'chat:roomcounts', room, -1) <= 0 then redis.call('HDEL', 'chat:roomcounts', room) end
        if redis.call('ZCARD', tag .. 'pres') == 0 then redis.call('ZADD', 'chat:roomactive', 'XX', now_ms(), room) end
        redis.call('PUBLISH', tag .. 'live', cjson.encode({t = 'notice', node = node, type = 'user_left', owner = owner,
          payload = {room_id = room, user_name = nick, reason = ARGV[2]}}))
        removed = removed + 1
      end
    end
  end
end
local left = redis.call('SCARD', KEYS[1])
if left == 0 then redis.call('SREM', KEYS[2], node) end
return {removed, left}
`;

/**
 * Removes a room cluster-wide if nobody is present on any node and its last activity (creation,
 * the last member leaving, a node's touch for its watchers) is `idle` ms old by Redis's clock.
 * One step, so no join can slip in: PRESENCE_JOIN refuses (`noroom`) once the record is gone.
 * Deletes the record, the log, the idempotency keys and the presence; keeps `meta` (the seq), so
 * a room made again under the id never reuses a seq. PUBLISHes {"t":"expired"} on the room's
 * channel so nodes with its actor drop it. Returns 'expired' | 'busy' | 'gone'.
 * The settings lose their content but keep their version (`v`), so a node that missed the notice
 * never prefers its old settings to those of a room made again under the id.
 * KEYS: rooms, roomactive, pres, pnick, log, idem, live, settings. ARGV: room key (folded), idle ms.
 */
export const EXPIRE_ROOM =
  NOW_MS +
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 'gone'
end
if redis.call('ZCARD', KEYS[3]) > 0 then return 'busy' end
local last = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not last or tonumber(now_ms()) - tonumber(last) < tonumber(ARGV[2]) then return 'busy' end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('HDEL', 'chat:roomcounts', ARGV[1])
redis.call('HDEL', KEYS[8], 'json')
redis.call('PUBLISH', KEYS[7], cjson.encode({t = 'expired', room_id = ARGV[1]}))
return 'expired'
`;

/**
 * Stamps rooms active now (XX GT: only rooms tracked for expiry, never backwards): a node's
 * watchers (SSE) are not in Redis's presence, so the node vouches for them on every sweep.
 * KEYS: roomactive. ARGV: room ids.
 */
export const TOUCH_ROOMS =
  NOW_MS +
  `
local now = now_ms()
for _, room in ipairs(ARGV) do redis.call('ZADD', KEYS[1], 'XX', 'GT', now, room) end
return #ARGV
`;

/**
 * Starts tracking, as idle from now, every room not tracked yet (NX): rooms made before expiry
 * was tracked, and kept rooms (untracked by the sweep) are looked at once more after a restart.
 * KEYS: rooms, roomactive. Returns the rooms added.
 */
export const TRACK_ROOMS =
  NOW_MS +
  `
local now = now_ms()
local added = 0
for _, room in ipairs(redis.call('HKEYS', KEYS[1])) do
  added = added + redis.call('ZADD', KEYS[2], 'NX', now, room)
end
return added
`;
