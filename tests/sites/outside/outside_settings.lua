-- Where outside.lua reaches out. Tests against real servers overwrite this in their copy
-- of the site; these values suit the fakes (FakeDns records the server it was asked).
return { dns_server = "192.0.2.53", upstream = "http://upstream.test" }
