-- Wireshark dissector for searchd's protocol (the socket tutorial's application
-- protocol): a 2-byte big-endian header length, a JSON header (byteorder, content-type,
-- content-encoding, content-length), then content-length bytes of content.
--
--   tshark -X lua_script:contrib/wireshark/searchd.lua -i lo -Y searchd
--   (or copy it to ~/.local/lib/wireshark/plugins/; `make install` puts it in
--   $(PREFIX)/lib/x86_64-linux-gnu/wireshark/plugins/)
--
-- Registered on TCP port 65432 and as a heuristic (a plausible length followed by `{`)
-- for other ports; `-d tcp.port==PORT,searchd` decodes any port as searchd from its
-- first byte. Messages split over segments are reassembled and several in one segment
-- are split. The echo port (65433) shows as data, the TLS port (65443) as TLS.

local searchd = Proto("searchd", "searchd protocol")

local f = searchd.fields
f.kind = ProtoField.string("searchd.kind", "Message")
f.header_length = ProtoField.uint16("searchd.header_length", "Header length", base.DEC)
f.header = ProtoField.string("searchd.header", "Header")
f.byteorder = ProtoField.string("searchd.byteorder", "byteorder")
f.content_type = ProtoField.string("searchd.content_type", "content-type")
f.content_encoding = ProtoField.string("searchd.content_encoding", "content-encoding")
f.content_length = ProtoField.uint32("searchd.content_length", "content-length", base.DEC)
f.content = ProtoField.bytes("searchd.content", "Content")
f.action = ProtoField.string("searchd.action", "Action")
f.value = ProtoField.string("searchd.value", "Value")
f.result = ProtoField.string("searchd.result", "Result")
f.error = ProtoField.string("searchd.error", "Error code")
f.limit = ProtoField.string("searchd.limit", "Limit")
f.typos = ProtoField.string("searchd.typos", "Typos")
f.suggestion = ProtoField.string("searchd.suggestion", "Suggestion")
f.complete = ProtoField.string("searchd.complete", "Complete")

local e_bad_header = ProtoExpert.new("searchd.bad_header", "Malformed header",
  expert.group.MALFORMED, expert.severity.ERROR)
local e_too_long = ProtoExpert.new("searchd.too_long", "Content over 64 KiB",
  expert.group.PROTOCOL, expert.severity.WARN)
local e_bad_content = ProtoExpert.new("searchd.bad_content", "Content is not the JSON the protocol expects",
  expert.group.MALFORMED, expert.severity.WARN)
local e_error_reply = ProtoExpert.new("searchd.error_reply", "Error reply",
  expert.group.RESPONSE_CODE, expert.severity.NOTE)
searchd.experts = { e_bad_header, e_too_long, e_bad_content, e_error_reply }

local json_dissector = Dissector.get("json")
local data_dissector = Dissector.get("data")

-- A flat JSON object of strings, numbers, booleans and null: what headers and contents
-- hold. Returns a table, or nil and why.
local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local escapes = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }

local function parse_object(s)
  local i = 1
  local function ws() i = s:find("[^ \t\r\n]", i) or #s + 1 end
  local function str()
    if s:sub(i, i) ~= '"' then return nil end
    i = i + 1
    local out = {}
    while i <= #s do
      local c = s:sub(i, i)
      if c == '"' then i = i + 1; return table.concat(out) end
      if c == "\\" then
        local e = s:sub(i + 1, i + 1)
        if e == "u" then
          local cp = tonumber(s:sub(i + 2, i + 5), 16)
          if not cp then return nil end
          i = i + 6
          if cp >= 0xD800 and cp < 0xDC00 and s:sub(i, i + 1) == "\\u" then
            local low = tonumber(s:sub(i + 2, i + 5), 16)
            if low and low >= 0xDC00 and low < 0xE000 then
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
              i = i + 6
            end
          end
          out[#out + 1] = utf8_char(cp)
        elseif escapes[e] then
          out[#out + 1] = escapes[e]
          i = i + 2
        else
          return nil
        end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
    return nil
  end
  local value
  local depth = 0
  local function object()
    if s:sub(i, i) ~= "{" then return nil, "not a JSON object" end
    i = i + 1
    local obj = {}
    ws()
    if s:sub(i, i) == "}" then i = i + 1; return obj end
    while true do
      ws()
      local key = str()
      if not key then return nil, "a key is not a string" end
      ws()
      if s:sub(i, i) ~= ":" then return nil, "no ':' after \"" .. key .. "\"" end
      i = i + 1
      ws()
      local v, why = value(key)
      if v == nil then return nil, why end
      obj[key] = v
      ws()
      local c = s:sub(i, i)
      i = i + 1
      if c == "}" then return obj end
      if c ~= "," then return nil, "expected ',' or '}'" end
    end
  end
  local function array(key)
    i = i + 1
    local list = {}
    ws()
    if s:sub(i, i) == "]" then i = i + 1; return list end
    while true do
      ws()
      local v, why = value(key)
      if v == nil then return nil, why end
      list[#list + 1] = v
      ws()
      local c = s:sub(i, i)
      i = i + 1
      if c == "]" then return list end
      if c ~= "," then return nil, "expected ',' or ']'" end
    end
  end
  -- A string, number, literal, or (a suggest's list, the stats object) an array or object.
  value = function(key)
    local c = s:sub(i, i)
    if c == '"' then
      local v = str()
      if v == nil then return nil, "bad string for \"" .. key .. "\"" end
      return v
    end
    if c == "{" or c == "[" then
      if depth >= 32 then return nil, "nests too deep" end
      depth = depth + 1
      local v, why
      if c == "{" then v, why = object() else v, why = array(key) end
      depth = depth - 1
      return v, why
    end
    local literal = s:match("^[%w%.%+%-]+", i)
    if not literal then return nil, "bad value for \"" .. key .. "\"" end
    i = i + #literal
    return tonumber(literal) or literal
  end
  ws()
  local obj, why = object()
  if not obj then return nil, why end
  ws()
  if i <= #s then return nil, "bytes after the object" end
  return obj
end

local function dissect_message(tvb, pinfo, tree, header_length, header, content_length)
  local t = tree:add(searchd, tvb())
  t:add(f.header_length, tvb(0, 2))
  local header_range = tvb(2, header_length)
  local ht = t:add(f.header, header_range)
  if header then
    ht:add(f.byteorder, header_range, tostring(header.byteorder))
    ht:add(f.content_type, header_range, tostring(header["content-type"]))
    ht:add(f.content_encoding, header_range, tostring(header["content-encoding"]))
    ht:add(f.content_length, header_range, content_length)
  end
  if content_length > 65536 then t:add_proto_expert_info(e_too_long) end
  local kind, summary = "message", ""
  if content_length > 0 then
    local content_range = tvb(2 + header_length, content_length)
    t:add(f.content, content_range)
    local ctype = header and header["content-type"]
    if ctype == "text/json" and header["content-encoding"] == "utf-8" then
      json_dissector:call(content_range:tvb(), pinfo, t)
      local content, why = parse_object(content_range:raw())
      if content and content.action then
        kind = "request"
        t:add(f.action, content_range, tostring(content.action))
        if content.value ~= nil then t:add(f.value, content_range, tostring(content.value)) end
        if content.limit ~= nil then t:add(f.limit, content_range, tostring(content.limit)) end
        if content.typos ~= nil then t:add(f.typos, content_range, tostring(content.typos)) end
        summary = tostring(content.action) .. " " .. tostring(content.value or "")
      elseif content and type(content.result) == "table" then
        -- A suggest's reply: the keys, best first, with their typos.
        kind = "reply"
        for _, entry in ipairs(content.result) do
          local line = tostring(type(entry) == "table" and entry.key) .. " (typos " ..
            tostring(type(entry) == "table" and entry.typos) .. ")"
          t:add(f.suggestion, content_range, line)
        end
        t:add(f.complete, content_range, tostring(content.complete))
        summary = #content.result .. " suggestions"
      elseif content and content.result then
        kind = "reply"
        t:add(f.result, content_range, tostring(content.result))
        summary = tostring(content.result)
        if content.error then
          t:add(f.error, content_range, tostring(content.error))
          t:add_proto_expert_info(e_error_reply, "Error reply: " .. tostring(content.error))
        end
      else
        t:add_proto_expert_info(e_bad_content, why or "neither an action nor a result")
      end
    elseif ctype == "binary/custom-server-binary-type" then
      kind = "reply"
      summary = "binary reply"
    else
      kind = "request"
      summary = "binary " .. tostring(ctype)
    end
  end
  t:add(f.kind, tvb(0, 2), kind):set_generated()
  t:append_text(", " .. kind .. ": " .. summary)
  pinfo.cols.protocol = "searchd"
  pinfo.cols.info:append(kind .. " " .. summary .. "; ")
end

-- Frames as many whole messages as the bytes hold; asks TCP for the rest of an unfinished one.
function searchd.dissector(tvb, pinfo, tree)
  local length = tvb:len()
  local offset = 0
  pinfo.cols.info:clear()
  while offset < length do
    local left = length - offset
    if left < 2 then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      return length
    end
    local header_length = tvb(offset, 2):uint()
    if header_length == 0 then
      local t = tree:add(searchd, tvb(offset))
      t:add_proto_expert_info(e_bad_header, "Header length 0")
      return length
    end
    if left < 2 + header_length then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = 2 + header_length - left
      return length
    end
    local header, why = parse_object(tvb(offset + 2, header_length):raw())
    local content_length = header and tonumber(header["content-length"])
    if not content_length or content_length < 0 or content_length % 1 ~= 0 then
      -- Unframeable: what follows cannot be told apart, as the server would close here.
      local t = tree:add(searchd, tvb(offset))
      t:add(f.header_length, tvb(offset, 2))
      t:add(f.header, tvb(offset + 2, header_length))
      t:add_proto_expert_info(e_bad_header, why or "no integer content-length")
      pinfo.cols.protocol = "searchd"
      pinfo.cols.info:append("malformed header; ")
      return length
    end
    local total = 2 + header_length + content_length
    if left < total then
      pinfo.desegment_offset = offset
      pinfo.desegment_len = total - left
      return length
    end
    dissect_message(tvb(offset, total):tvb(), pinfo, tree, header_length, header, content_length)
    offset = offset + total
  end
  return offset
end

-- Another port: a plausible header length followed by the header's `{`.
local function heuristic(tvb, pinfo, tree)
  if tvb:len() < 3 then return false end
  local header_length = tvb(0, 2):uint()
  if header_length < 2 or tvb(2, 1):uint() ~= 0x7B then return false end
  pinfo.conversation = searchd
  searchd.dissector(tvb, pinfo, tree)
  return true
end

local tcp_port = DissectorTable.get("tcp.port")
tcp_port:add(65432, searchd)
tcp_port:add(65433, data_dissector)
tcp_port:add(65443, Dissector.get("tls"))
searchd:register_heuristic("tcp", heuristic)
