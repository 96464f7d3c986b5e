"""Facts about Momentum's configuration options, as data.

Sources: Momentum 4 "Configuration Options Summary" (option names, documented defaults, the
scopes each option is valid in), the modules reference pages for module options, and our
decisions where those are silent (docs/emulation.md#configuration). Spelling is Momentum's
display style; lookups ignore case.

``OPTION_TABLE``: one option per line, ``Name type default scope…``. ``type`` is one of
any/bool/int/octal/str/list/params; ``default`` is written in configuration syntax, ``-`` when
none is documented. Scope ids are lower-case scope names; ``@group`` expands per SCOPE_GROUPS.
Listener-specific ``listen``/``peer`` validity is decided in schema.py.
"""

SCOPE_GROUPS = {
    "@pw": "pathway pathway_group",
    "@send": "binding binding_group domain global",
    "@recv": "esmtp_listener listen peer @pw",
    "@listeners": "control_listener ecstream_listener esmtp_listener http_listener xmpp_listener",
    "@sock": "@listeners eccluster_listener listen",
    "@tls": "ecstream_listener esmtp_listener http_listener xmpp_listener listen peer @pw",
}

# Momentum modules (modules/summary-all-modules, module pages, modules seen in doc examples);
# "*" marks documented singletons, which take no instance name.
MODULES = """
ac_auth adaptive* alerting* alias antivirus apn* apn_logger as_logger* auth_ds* auth_radius*
av_fsecure beik* bind_address_secondary bounce_classifier bounce_classifier_override* bounce_logger
brightmail bzip2io* cassandra_client chunk_logger cidrdb* clamav cloudmark* cluster*
commtouch_ctasd compress_spool* conntrol csapi curfew* custom_bounce_logger custom_logger dane
delay_dsn dk_sign dk_validate dkim_sign dkim_validate dnsbuf ds_core* ds_ldap ec_logger eleven*
engagement_tracker event_hydrant exim_logger fbl* fingerprint gcm* gcm_logger gzipio*
ha_proxy_client http_logger httpsrv* icu* ilf_logger* imageanalyzer inbound_audit* ipv6_lookup
jlog* mail_loop maildir mm7* mm7_serv* mms_bounce_logger mms_logger msg_gen* msgc_client*
msgc_server* mxip openarc opendkim outbound_audit outbound_smtp_auth outbound_smtp_auth_v0
persist_io* pipe_io* pipe_transport postfix_logger reception_timing response_transcode*
restinjector* sched* scriptlet securecreds* seedlist senderid sendmail_logger sieve sievelib smpp*
smpp_bounce_logger smpp_logger smtp_auth_proxy smtp_cbv smtp_rcptto_proxy spamassassin* spf_macros*
spf_v1 static_routes statp suppress_spool syslog_io* tls_macros url_ripper
"""

OPTION_TABLE = """
_Unsafe_Spool                  bool   false    global
Accept_Queue_Backlog           int    0        msgcserver_listener @sock
Adaptive_Adjustment_Interval   int    60       @send
Adaptive_Alert_Email_Destination any - @send
Adaptive_Attempt_Threshold     int    2000     @send
Adaptive_Body_Timeout          any    -        @send
Adaptive_Default_Suspension any "4 hours" @send
Adaptive_EHLO_Timeout          any    -        @send
Adaptive_Enabled               bool   false    @send
Adaptive_FBL_Volume_Threshold  int    20000    @send
Adaptive_Idle_Timeout          any    -        @send
Adaptive_Mailfrom_Timeout      any    -        @send
Adaptive_Max_Deliveries_Per_Connection any - @send
Adaptive_Max_Outbound_Connections any - @send
Adaptive_Max_Recipients_Per_Batch any - @send
Adaptive_Max_Recipients_Per_Connection any - @send
Adaptive_Max_Resident_Active_Queue any - @send
Adaptive_Max_Retries           any    -        @send
Adaptive_Max_Retry_Interval    any    -        @send
Adaptive_Notification_Events   list   -        @send
Adaptive_Notification_Interval int    3600     @send
Adaptive_Outbound_Throttle_Messages any - @send
Adaptive_Positive_Adjustment_Interval int 3600 @send
Adaptive_Rcptto_Timeout        any    -        @send
Adaptive_Rejection_Rate_Suspension_Percentage int 20 @send
Adaptive_Retry_Fuzz            int    4096     @send
Adaptive_Retry_Interval        any    -        @send
Adaptive_Rset_Timeout          any    -        @send
Adaptive_Scope                 str    auto     @send
Adaptive_Sweep_Rule_Enabled    bool   1        @send
Address                        any    -        snmp
Address_Metrics_Cleanse_Interval int 3600 global
Address_Metrics_Lifetime       int    1800     global
Alias_Schemes                  list   -        domain global @pw
Allow_IP_Literal               bool   true     global @recv
Allow_Null_Envelope_Sender     bool   true     global @recv
Allow_Trailing_Whitespace_In_Commands bool false global @recv
Always_Allow                   bool   false    control_listener http_listener @recv
Always_Deny                    bool   false    control_listener http_listener @recv
APN_Expiry                     str    yes      @send
Arp_All_Hosts                  bool   true     cluster
Async_Bounce_Rendering         bool   true     global
AuthCramMD5Parameters          params -        control_listener esmtp_listener listen @pw
AuthDigestMD5Parameters        params -        control_listener http_listener xmpp_listener @recv
AuthLoginParameters            params -        control_listener esmtp_listener listen @pw
AuthorizationParameters        params -        control_listener esmtp_listener listen
AuthPlainParameters            params -        esmtp_listener http_listener listen xmpp_listener @pw
Backlog                        int    0        threadpool
Banner_Hostname                str    -        @recv
Bind_Address                   str    -        binding binding_group global
Blackhole                      any    0        @send
Body_Timeout                   int    600      @send
Bounce_Behavior                str    pass     domain global
Bounce_Domains                 list   -        global @pw
Bounce_Pattern                 any    -        domain global
Bounce_Suppress_List           list   -        global
Bounces_Inline_Original        str    headers  @send
Capabilities                   any    -        security
Chroot                         any    -        security
Clear_Mail_Queue_Maintainers   bool   true     global
Click_Tracking_Enabled         bool   false    @recv
Click_Tracking_Scheme          str    http     @recv
Cluster_Group str ec_cluster cluster
Cluster_Max_Outbound_Connections int -1 binding domain global host
Cluster_Outbound_Throttle_Connections any - binding_group domain global
Cluster_Outbound_Throttle_Messages any - binding_group domain global
Cluster_Scope_Max_Outbound_Connections any - host @send
Cluster_Server_Max_Outbound_Connections any - binding binding_group global
Codes                          list   -        adaptive_sweep_rule
Community                      str    public   snmp
Concurrency                    int    0        threadpool @sock
Connect_Timeout                int    300      @send
Connect_Timeout_To_Delay       int    900      @send
Connection_Allocation_Aggressiveness str normal @send
Context                        params -        @recv
Control_Cache                  any    -        logs
Control_Client_Timeout         int    60       global
Control_Group str ec_console cluster
Critical                       list   ( ALL )  debug_flags
Crypto_Engine                  any    -        global
Crypto_Lock_Method str EC_SSL_DEFAULTLOCK global
Debug                          list   -        debug_flags
Debug_Throttle_Max_Num_Same_Message int 0 global
Debug_Throttle_Period_Secs     int    1        global
Default_Binding                str    normal   global
Default_Charset                str    us-ascii global @pw
Delay_DSN_Max_Retry_Interval   int    43200    @send
Delay_DSN_Retry_Interval       int    3600     @send
Delayed_Binding_Domain_Fuzz    int    0        binding binding_group global
Delayed_Queue_Scan_Interval    int    15       global
Delivery_Method                str    ESMTP    @send
Delivery_Pool                  any    -        global
Delivery_Response_Timeout      int    5000     binding domain global
Dir_Mode                       any    -        logs
Disable_Chunked                bool   false    http_listener listen peer @pw
Disable_Nagle_Algorithm        bool   false    global @sock
Disk_Queue_Drain_Rate          int    100      global
DNS_Cache_Purge_Interval       int    60       global
DNS_Expire_Interval            int    10       global
DNS_Failures_To_Purge          int    10       domain global
DNS_Fallback_To_TCP            bool   false    global
DNS_Max_UDP_Queries_Per_Port   int    0        global
DNS_Rate_Limit_Enabled         bool   false    global
DNS_Rate_Limit_Max_Queue       int    100000   global
DNS_Rate_Limit_MX_Queries      int    100      global
DNS_Rate_Limit_Period          int    1        global
DNS_UDP_Rcvbuf_Size            int    0        global
DNS_UDP_Sndbuf_Size            int    0        global
Domain_For_Unqualified_Recipient_Addresses any - global @recv
Domain_For_Unqualified_Sender_Address any - global @recv
DomainKeys                     any    -        @send
Drop_Body_After_Trans_Fail     int    3        @send
DuraVIP_Balance_Set_Size       int    1        cluster
DuraVIP_Follow                 any    -        listen
DuraVIP_Preference             any    -        binding listen
ECStream_Idle_Time             int    300      ecstream_listener listen peer @pw
ECStream_Max_Batch_Size        int    10000    ecstream_listener listen peer @pw
ECStream_Port                  int    1825     @send
ECStream_Timeout               int    600      @send
EHLO_Hostname str __hostname__ @send
EHLO_Timeout                   int    300      @send
Enable                         bool   true     msgcserver_listener @sock
Enable_Authentication          bool   -        control_listener http_listener @recv
Enable_Authorization           bool   -        control_listener listen peer
Enable_DuraVIP                 bool   -        binding listen
Enable_FBL_Header_Insertion    bool   -        @send
Enable_MTA_STS                 bool   -        @send
Error                          list   ( ALL )  debug_flags
Event_Loop                     str    -        ecstream_listener esmtp_listener http_listener listen
Events_Per_Iter                int    0        @sock
Exclude_VCTX_Conn              list   -        @send
Exclude_VCTX_Mess              list   -        @send
Expensive_Batch_Assessment     bool   false    global
File_Mode                      octal  0660     msgcserver_listener @sock
File_Mode                      any    -        logs
Force_FSync                    bool   false    global
Fully_Resolve_Before_SMTP      bool   true     @send
Gateway                        str    -        @send
GCM_Application_ID             any    -        @send
GCM_Authorization_Token_ID     any    -        @send
GCM_Delay_While_Idle           bool   false    @send
GCM_Dry_Run                    bool   false    @send
GCM_TTL                        int    -1       @send
Generate_Bounces               bool   true     @send
Generate_Bounces_For_Multi_Recipient_Policy_Rejections bool true global @pw
Generate_Delay_DSN             bool   false    @send
Group                          str    ecuser   security
Growbuf_Size                   int    16384    global
Heartbeat_Start_Delay          int    15       cluster
Heartbeats_Per_Sec             int    1        cluster
High_Action                    list   -        adaptive_sweep_rule
High_Threshold                 any    10       adaptive_sweep_rule
Host_Failure_Retry             int    120      domain global
Hot_Domains                    list   -        global
Hostname                       str    -        global
HTTP_Basic_Auth                any    -        @send
HTTP_Host                      any    -        @send
HTTP_Method                    str    POST     @send
HTTP_URI                       any    -        @send
HTTP_Version                   str    "1.1"    @send
Idle_Time                      int    300      http_listener xmpp_listener @recv
Idle_Timeout                   int    5        @send
If_Check_Interval              int    30       cluster
If_Down_Limit                  int    4        cluster
Inbound_Throttle_Messages      str    -        global @pw
Info                           list   -        debug_flags
Initial_Hash_Buckets           int    32       global
Inline_Transfail_Processing    int    1        global
Keep_Message_Dicts_In_Memory   bool   false    global
Large_Message_Threshold        int    131072   global
Legacy_Message_Threshold       int    1048576  global
License str "/opt/msys/ecelerity/etc" global
Listen_Backlog                 int    500      @sock
Listener_Sessions              int    0        @recv
LMTP_Port                      int    2003     @send
Local_Changes_File str "/opt/msys/ecelerity/etc/local_changes.conf" global
Local_Changes_Only             bool   false    global
Log_Active_Interval            int    1        cluster
Log_Group                      any    -        cluster
Log_Hires_Timestamp            bool   false    global
Log_Idle_Interval              int    10       cluster
Log_Requests_To_Paniclog       bool   false    http_listener listen peer @pw
Logfile                        any    -        logs
Logs                           any    -        cluster
Low_Action                     list   -        adaptive_sweep_rule
Low_Threshold                  any    5        adaptive_sweep_rule
Mail_Queue_Check_VM_Interval   int    60       global
MailerDaemon                   any    -        @send
Mailfrom_Timeout               int    300      @send
Maintainer_Pool                any    -        global
Malloc2mmap_Threshold          int    4092     global
MasterDB_File str "/var/log/ecelerity/ecdb" global
Match_Cache_Life               int    0        global
Match_Cache_Size               int    16384    global
Max_Deliveries_Per_Connection  int    0        @send
Max_DNS_TTL int 4294967295 global
Max_Idle                       any    -        logs
Max_Message_Size               int    0        @recv
Max_Open                       any    -        logs
Max_Outbound_Connections       int    32       host @send
Max_Receptions_Per_Connection  int    0        global @recv
Max_Recipients_Per_Batch       int    100      @send
Max_Recipients_Per_Connection  int    0        esmtp_listener listen peer @send
Max_Recipients_Per_Message     int    0        @recv
Max_Request_Size               int    -        http_listener listen peer @pw
Response_Timeout               any    0        http_listener listen
Max_Resident_Active_Queue      int    250      @send
Max_Resident_Messages          int    32768    binding binding_group global
Max_Resident_Transfails        int    100      global
MTA_STS_DNS_CNAME_Max_Depth    int    5        global
MTA_STS_Policy_Store str "/var/spool/ecelerity/mtasts" global
Swap_Out_Meta_After_Each_Tempfail bool true global
Max_Retries                    int    -        @send
Max_Retry_Interval             int    43200    @send
Max_Timed_Events_Per_Iter      int    1024     global
MCMT_Reception                 str    passthru @recv
Mdn_Failures_Notify            any    -        @send
Memory_Goal                    int    90       global
Memory_HWM                     int    95       global
Message_Expiration             int    86400    @send
Migrate_Connections_Between_Sibling_Domains bool true global
Mime_Parse_Large_Messages_During_Reception bool true global
Min_DNS_TTL                    int    0        global
MX_Failures_Fallback_To_A      int    3        domain global
MX_Failures_To_Delay           int    50       domain global
Never_Attempt_Expired_Messages bool   false    @send
Never_Retry                    bool   false    @send
NodeAddr                       any    -        cluster
NodeName                       any    -        cluster
Notice                         list   -        debug_flags
Only_Use_Best_MX_For_Relay_Domains bool true global
Open_Tracking_Enabled          bool   false    @recv
Open_Tracking_Scheme           str    http     @recv
Open_Relay                     bool   false    @recv
OpenDKIM_Sign                  bool   true     @send
Outbound_Throttle_Connections  str    -        host @send
Outbound_Throttle_Messages     str    -        host @send
Pathway                        str    -        ecstream_listener esmtp_listener listen peer
PCRE_Cache_Size                int    100      global
PCRE_Cache_TTL                 int    300      global
Permastore_Interval            int    300      global
PidFile str "/var/run/ecelerity.pid" global
Pool_Name                      str    -        @sock
Prefer_IPv6_MXs                bool   false    global
Prohibited_Hosts               list   -        global
Proxy_Protocol                 bool   false    listen peer @listeners
Proxy_Protocol_Timeout         int    60       listen peer @listeners
Rcptto_Timeout                 int    300      @send
Received_Hostname              any    -        @recv
Reconfig_Message str "4.3.2 Reconfiguration in progress" esmtp_listener
Relay_Domains                  list   -        global @pw
Relay_For_Sending_Domains      any    -        @recv
Relay_Hosts                    list   -        global @recv
Remote_SMTP_Port               int    25       @send
Require_EHLO                   bool   false    global @recv
Reserve_Maintenance_Interval   int    15       global
Resolv_Conf                    any    -        global
Response_Transcode_Pattern     any    -        @send
Response_Transcode_Replace     any    -        @send
Retry_Interval                 int    1200     @send
RFC2821_Allow_Whitespace_In_Envelope bool false global @pw
RFC2821_Pedantic_Address_Rules bool   true     global @pw
RFC2822_Date_Header            str    ifneeded global @pw
RFC2822_Lone_LF_In_Body        str    ignore   global @pw
RFC2822_Lone_LF_In_Headers     str    pedantic global @pw
RFC2822_Max_Line_Length        str    ignore   global @pw
RFC2822_Max_Line_Length_Policy str    none     global @pw
RFC2822_Messageid_Header       str    ifneeded global @pw
RFC2822_Missing_Headers        str    reject   global @pw
RFC2822_Trace_Headers          bool   true     global @pw
Routes                         list   -        domain global
Rset_Timeout                   int    30       @send
Schedule_File                  any    -        curfew
Scheduler                      any    -        global
Scope_Max_Outbound_Connections any    -        @send
Send_8BITMIME                  str    no       @send
Server_Max_File_Descriptors    int    3000000  global
Server_Max_Outbound_Connections int 20000 binding binding_group global
Server_Reserve_Outbound_Connections int 200 global
Service_Sessions               int    0        @recv
Signing_Stats                  str    all      global
SIV_Throttle_Cache_Size        any    -        global
Skip_Hosts                     list   -        global
SMTP_Extensions                list   -        @recv
Soft_Bounce_Drain_Rate         int    100      global
Spool_Mode                     octal  0640     global
SpoolBase str "/var/spool/ecelerity" global
SSL_Lock_Method                str    mutex    global
Stack_Size                     int    0        threadpool
Starttls_Injection_Policy      str    reject   @recv
State                          bool   1        snmp
State                          bool   0        snmp_traps
Static_Banner                  any    -        @recv
Supplemental_Groups            any    -        security
Suspend_Delivery               bool   false    @send
SysContact                     any    -        snmp
SysDescription                 any    -        snmp
SysLocation                    any    -        snmp
TCP_Buffer_Size                int    32768    cluster global
TCP_Recv_Buffer_Size           int    4096     @sock
TCP_Send_Buffer_Size           int    4096     @sock
Timeout                        int    60       control_listener
TimestampFormat str "[%a %d %b %Y %H:%M:%S]" global
Timezone                       str    UTC      curfew
TLS                            str    no       @send
TLS_Allow_Renegotiation        bool   true     @tls
TLS_CA                         any    -        @send
TLS_Certificate                str    -        @tls @send
TLS_Ciphers                    str    -        @tls @send
TLSv13_Ciphersuites            str    -        http_listener @recv @send
TLS_Client_CA                  str    -        global @tls
TLS_DHParams_File              any    -        global
TLS_EC_Curve_Names             any    -        global
TLS_Enable_DHE_Ciphers         bool   true     global
TLS_Engine                     str    openssl  global
TLS_Ifavailable_Fallback       bool   true     @send
TLS_Key                        str    -        @tls @send
TLS_Protocols                  str    -        ecstream_listener http_listener @recv @send
TLS_Verified_Peer_Can_Relay    bool   false    ecstream_listener @recv
TLS_Verified_Peer_Is_Authorized bool false http_listener listen pathway peer
TLS_Verify                     str    no       @send
TLS_Verify_Mode                str    -        @tls
TLSA_Expire_Interval           int    3600     global
Trace_SMTP_Mode                octal  0640     global
Tracking_Domain str "localhost:8080" @recv
Tracking_Link_Expiry           int    31536000 @recv
Transfail_Drain_Rate           int    100      global
Transform_8BITMIME_Content     str    ifneeded @send
Trap_Destination               any    -        snmp_traps
Trap_Interval                  int    60       snmp_traps
Unconditional_Rebind           bool   true     cluster
Unlink_On_Spool_In_Failure     bool   true     global
Use_IFList_Cache               int    0        global
Use_IPv6                       bool   false    global
Use_Mmap                       bool   false    global
Use_MTA_STS                    bool   false    domain global
Use_Sendfile                   bool   false    global
Use_SSL                        bool   false    ecstream_listener http_listener @recv
User                           str    ecuser   security
View_Balance_Interval          int    10       cluster
View_Broadcast_Interval        int    0        cluster
View_Mature_Time               int    5        cluster
Warning                        list   -        debug_flags
Watch_Variables                params -        snmp_traps
XClient                        str    no       @send
XMPP_Dialback_Secret           any    -        domain
XMPP_Role                      any    -        domain
# Documented on their own pages (config/, modules/) but missing from the summary table.
Enable_DANE                    bool   -        @send
Use_DANE                       bool   -        domain global
Rollup_MX                      bool   -        host
Rollup_MX_Name                 str    -        host
Privileges                     str    -        security
Watch_Interval                 int    -        snmp_traps
Community                      str    Public   destination
Outbound_SMTP_AUTH_Type        str    -        @send
Outbound_SMTP_AUTH_User        str    -        @send
Outbound_SMTP_AUTH_Pass        str    -        @send
Outbound_SMTP_AUTH_Key         str    -        @send
# Options of the modules this project catalogues (modules reference pages;
# docs/emulation.md#configuration).
# "module" applies to every module stanza.
Enabled                        bool   true     module
Debug_Level                    str    ERROR    module
Alerting_Cache_TTL             int    3600     alerting
Alerting_Cache_Size            int    1048576  alerting
Script_TTL                     int    300      scriptlet
Always_GC                      bool   false    scriptlet
GC_Pause                       int    200      scriptlet
GC_Stepmul                     int    200      scriptlet
Max_Spare_Per_Master           int    5000     scriptlet
Reap_Interval                  int    1        scriptlet
GC_Every                       any    -        scriptlet
GC_Step_On_Recycle             any    -        scriptlet
GC_Step_On_Trash_State         any    -        scriptlet
GC_Threadpool                  any    -        scriptlet
GC_Trace_Thresh                any    -        scriptlet
Global_Trace_Interval          any    -        scriptlet
Max_Uses_Per_Thread            any    -        scriptlet
Pin_Thread_For_Completion_In_Event_Loop any - scriptlet
Use_Reusable_Thread            any    -        scriptlet
Warn_On_Log_GC                 any    -        scriptlet
# The emulator's own limits on Lua work (README "Limits"; not Momentum options).
CPU_Time_Limit                 any    10       scriptlet
Memory_Limit                   int    1024     scriptlet
Source                         str    -        script
Mainlog                        str    -        ec_logger
Paniclog                       str    -        ec_logger
Rejectlog                      str    -        ec_logger
Acctlog                        str    -        ec_logger
Importlog                      str    -        ec_logger
Heartbeat                      int    60       ec_logger
Mainlog_Mode                   octal  0644     ec_logger
Paniclog_Mode                  octal  0644     ec_logger
Rejectlog_Mode                 octal  0644     ec_logger
Acctlog_Mode                   octal  0644     ec_logger
Acctlog_Log_Mode               octal  0644     ec_logger
Importlog_Mode                 octal  0644     ec_logger
Log_Receptions                 any    -        ec_logger
Log_Deliveries                 any    -        ec_logger
Log_Transient_Failures         any    -        ec_logger
Log_Permanent_Failures         any    -        ec_logger
Log_Rejections                 any    -        ec_logger
Log_Errors                     any    -        ec_logger
Log                            str    "file:///var/log/ecelerity/httplog.ec" http_logger
URI                            list   -        datasource
Cache_Life                     int    3600     datasource
Cache_Size                     int    1000     datasource
Max_Rows                       int    100      datasource
No_Cache                       bool   false    datasource
Pool                           str    -        datasource
Serialized                     bool   false    datasource
Assume_Charset                 str    -        datasource
Concurrency                    int    -        eventloop
Allow                          list   -        role
"""
