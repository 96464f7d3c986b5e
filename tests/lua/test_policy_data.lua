-- msys.cidr, msys.audit_series, msys.gauge_cache, msys.counter as the Momentum 4 docs
-- describe them.
require("Test.More")
plan(31)

local path = os.tmpname()
local f = io.open(path, "w")
f:write([[
# an rbldnsd ip4set with an IPv6 entry
$TTL 3600
:127.0.0.3:listed by default
10.0.0.0/8
10.1.2.0/24 :127.0.0.5:Listed $ for abuse
!10.1.2.4
192.168
2001:db8::/32 :127.0.0.9:six
]])
f:close()

require("msys.cidr")
msys.cidr.define("rbl", { type = "rbldnsd", source = path, default_value = "127.0.0.0" })
is(msys.cidr.query("rbl", "10.9.9.9"), "127.0.0.3", "a network takes the default A value")
is(msys.cidr.query("rbl", "10.1.2.9"), "127.0.0.5", "the most specific network wins")
is(msys.cidr.query("rbl", "10.1.2.4"), "127.0.0.0", "an exclusion answers the default_value")
is(msys.cidr.query("rbl", "192.168.40.1"), "127.0.0.3", "a partial address is a /16")
is(msys.cidr.query("rbl", "11.0.0.1"), "127.0.0.0", "no match answers the default_value")
is(msys.cidr.query("rbl", "2001:db8:1::1"), "127.0.0.9", "IPv6 entries need ' :'")
msys.cidr.define("txt", { type = "rbldnsd", source = path, value = "txt", interpolate = true })
is(msys.cidr.query("txt", "10.1.2.9"), "Listed 10.1.2.9 for abuse", "txt values, interpolated")
is(msys.cidr.query("txt", "172.16.0.1"), nil, "the default default_value is nil")
msys.cidr.define("empty", "empty")
is(msys.cidr.query("empty", "10.0.0.1"), nil, "an empty CIDR matches nothing")
f = io.open(path, "w"); f:write("172.16.0.0/12\n"); f:close()
is(msys.cidr.query("rbl", "172.16.0.1"), "127.0.0.0", "the file is read at define time")
msys.cidr.reload("rbl")
is(msys.cidr.query("rbl", "172.16.0.1"), "127.0.0.2", "and again by reload (rbldnsd's default A)")
error_like(function() msys.cidr.define("x", { type = "rbldnsd" }) end, "needs a source",
  "rbldnsd without a source")
error_like(function() msys.cidr.define("x", "rbldnsd") end, "needs a source",
  "a string option is the type")
error_like(function() msys.cidr.define("x", { type = "rbldnsd", source = "/nonexistent" }) end,
  "cannot read '/nonexistent'", "an unreadable source")
error_like(function() msys.cidr.query("nope", "10.0.0.1") end, "no CIDR named 'nope'",
  "querying an undefined CIDR")
error_like(function() msys.cidr.query("rbl") end, "no SMTP connection",
  "no address and no connection to take it from")
os.remove(path)

require("msys.audit_series")
msys.audit_series.define("ips", "cidr", 300, 3)
msys.audit_series.add("ips", "10.0.0.1")
msys.audit_series.add("ips", { key = "10.0.0.2", count = 4 })
is(msys.audit_series.count("ips", "10.0.0.1"), 1, "add counts one by default")
is(msys.audit_series.count("ips", { key = "10.0.0.0/24" }), 5, "a network key sums its addresses")
msys.audit_series.remove_item("ips", "10.0.0.2")
is(msys.audit_series.count("ips", { key = "10.0.0.0/24", startv = 0, endv = 2 }), 1,
  "remove_item drops one key")
error_like(function() msys.audit_series.add("ips", "2001:db8::1") end, "does not fit a cidr series",
  "a cidr series is IPv4 only")
msys.audit_series.define("names", "string", 60, 2)
msys.audit_series.add("names", { key = "a", count = -2 })
is(msys.audit_series.count("names", "a"), -2, "counts may go down")
error_like(function() msys.audit_series.add("names") end, "needs a key", "a string series needs a key")
error_like(function() msys.audit_series.define("bad", "ipv7", 60, 2) end, "unknown series type",
  "unknown types are refused")

require("msys.gauge_cache")
msys.gauge_cache.define("conns", 2, 60)
is(msys.gauge_cache.inc("conns", "a"), 1, "inc returns the new value")
msys.gauge_cache.inc("conns", "a")
is(msys.gauge_cache.dec("conns", "a"), 1, "dec too")
msys.gauge_cache.inc("conns", "b")
msys.gauge_cache.inc("conns", "c")
is(msys.gauge_cache.get("conns", "a"), 0, "past maxelems the oldest entry goes")
msys.gauge_cache.remove_item("conns", "c")
is(msys.gauge_cache.get("conns", "c"), 0, "remove_item")

require("msys.counter")
local c = msys.counter.open("/site/test/hits")
msys.counter.inc(c)
msys.counter.add("/site/test/hits", 5)
is(msys.counter.read(c), 6, "a handle and its path are the same counter")
msys.counter.reset(c)
is(msys.counter.read("/site/test/hits"), 0, "reset")
msys.counter.add("/site/test/new", 3)
is(msys.counter.read("/site/test/new"), 3, "add creates a counter by path")
msys.counter.unlink("/site/test/new")
is(msys.counter.read("/site/test/new"), 0, "unlink removes it")
