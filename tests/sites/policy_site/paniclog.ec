1796403783:scriptlet: policy_data.lua:105: msys.audit_series.add: no address given, and there is no SMTP connection to take it from here
stack traceback:
	policy_data.lua:30: in function 'address_key'
	policy_data.lua:99: in function 'key_and'
	policy_data.lua:105: in function 'add'
	tests/sites/policy_site/endpoints.lua:7: in function '?'
1796403801:scriptlet: tests/sites/policy_site/endpoints.lua:6: attempt to index field 'raw_query' (a nil value)
stack traceback:
	tests/sites/policy_site/endpoints.lua:6: in function '?'
