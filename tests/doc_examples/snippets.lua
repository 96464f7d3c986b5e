-- Snippet-sized examples of the reference pages, each run as a console command so its
-- print output is the reply. The page each follows is named above it; the pages' synopses
-- load the libraries with require, as here.
require("json");
require("xml");
local snippets = {}

-- 4/lua/ref-json-decode.md (M3: 3-reference-lua-ref-json-decode.md)
snippets.json_decode = function()
  local obj, code, err = json.decode([[{ "greeting": "hi" }]]);
  if not obj then
    error(err);
  end
  print(obj.greeting);
  obj.count = 7;
  obj.ratio = 0.25;
  print(obj);
end

-- 4/lua/ref-json-encode.md
snippets.json_encode = function()
  local obj = json.decode([[{"colour": "red"}]]);
  obj.count = 2;
  obj.list = json.encode({ 5, 6 });
  print(tostring(obj));
end

-- 4/lua/ref-json-new.md
snippets.json_new = function()
  local o = json.new();
  o.key = "val";
  print(o);
end

-- 4/lua/ref-xml-doc-root.md, ref-xml-node-addchild.md, ref-xml-node-contents.md
snippets.xml_addchild = function()
  local doc = xml.parsexml([[<list></list>]]);
  local root = doc:root();
  local entry = root:addchild("entry");
  entry:contents("first entry");
  print(root:tostring());
end

-- 4/lua/ref-xml-doc-tostring.md and ref-xml-node-doc.md
snippets.xml_doc_tostring = function()
  local doc = xml.parsexml([[<list></list>]]);
  local entry = doc:root():addchild("entry");
  entry:contents("first entry");
  print(entry:doc():tostring());
end

-- 4/lua/ref-xml-node-name.md and ref-xml-node-children.md
snippets.xml_names = function()
  local doc = xml.parsexml([[<list></list>]]);
  local entry = doc:root():addchild("entry");
  entry:attr("id", "e1");
  entry:contents("text inside");
  for child in doc:root():children() do print(child:name()) end
  for child in entry:children() do print(child:name()) end
end

-- 4/lua/ref-xml-node-attribute.md and ref-xml-doc-xpath.md
snippets.xml_attr_xpath = function()
  local doc = xml.parsexml([[<list><entry/><entry/></list>]]);
  for node in doc:xpath("//entry") do
    node:attr("state", "new")
    print(node:name(), node:attr("state"))
    node:attr("state", nil)
    print(node:attr("state"))
  end
end

-- 4/lua/ref-xml-node-tostring.md
snippets.xml_node_tostring = function()
  local doc = xml.parsexml([[<list></list>]]);
  local entry = doc:root():addchild("entry");
  entry:contents("only this");
  print(entry:tostring());
end

-- 4/lua/ref-xml-node-unlink.md and ref-xml-parsexml.md
snippets.xml_unlink = function()
  local doc = xml.parsexml([[<list><entry/></list>]]);
  local root = doc:root();
  local kept = root:unlink();
  print(kept:name(), doc:root());
end

-- 4/lua/ref-msys-pcre-split.md and ref-msys-dumper-dumper.md (with a table instead of
-- msys.dnsLookup's answer)
snippets.pcre_split_dumper = function()
  require("msys.pcre");
  require("msys.dumper");
  local answer = { "192.0.2.2", "192.0.2.1" };
  table.sort(answer);
  local lines = msys.pcre.split(msys.dumper.Dumper(answer), "\\n");
  for i = 1, #lines do
    print("line:", lines[i]);
  end
end

-- 4/lua/ref-msys-pcre-match.md and ref-msys-pcre-replace.md (on a string instead of a
-- message part)
snippets.pcre_match_replace = function()
  local matches = msys.pcre.match("order 1234 shipped", "(?<number>\\d+)");
  print(matches[0], matches[1], matches["number"]);
  local text = "order 1234 shipped";
  local changed = msys.pcre.replace(text, "\\d+", "####");
  if changed ~= text then print(changed) end
end

-- 4/lua/ref-msys-base-64-encode.md and ref-msys-base-64-decode.md (their synopses)
snippets.base64 = function()
  require("msys.base64");
  local encoded = msys.base64.encode("any carnal pleas");
  print(encoded, msys.base64.decode(encoded));
end

-- 4/lua/ref-msys-runinpool.md: the three calling forms
snippets.run_in_pool = function()
  local status, result = msys.runInPool("IO",
    function()
      return "finished";
    end,
    function()
      print("completion ran");
    end,
    msys.core.ECTP_COMPLETE_CALLBACK_SCHED
  );
  print("async form returns", status, result);
  local lift = function()
    print("lifting in a pool")
    return true
  end
  print(msys.runInPool('IO', lift))
  print(msys.runInPool('CPU', function() return 1 + 1 end))
end

-- 4/lua/ref-msys-runininst.md
snippets.run_in_inst = function()
  local name = "domain.example"
  local inst = msys.core.scheduler_for_domain(name)
  print(msys.runInInst(inst, function()
    print("working for:", name)
    return true
  end))
  print(msys.runInPool("IO", function()
    local ok, value = msys.runInInst(inst, function() return "inner" end)
    if ok then return value end
  end))
end

-- 4/lua/ref-msys-threadpool-stat.md (and -count, -find)
snippets.threadpool_stat = function()
  require("msys.threadpool");
  local s = msys.threadpool.stat("SWAPIN");
  print(s["invocations"], s["num_threads"]);
  s = msys.threadpool.stat(1);
  print(s["job_num_queued"], s["name"]);
  print(msys.threadpool.count() >= 8, msys.threadpool.find("IO"), msys.threadpool.find(1))
end

-- 4/lua/ref-msys-config.md (M3: 3-reference-lua-ref-msys-config.md)
snippets.msys_config = function()
  local global_limit, global_text = msys.config("get", "max_outbound_connections");
  local scoped_limit, scoped_text = msys.config("get", "domain", "example.org",
    "max_outbound_connections");
  print(global_limit, scoped_limit);
  print(global_text .. scoped_text);
end

local module = {}
function module:rsrc_setup()
  for name, snippet in pairs(snippets) do
    msys.registerControl("snippet " .. name, snippet)
  end
  return true
end
msys.registerModule("snippets", module)
