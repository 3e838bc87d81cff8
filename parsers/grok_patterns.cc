// The built-in grok pattern library: RE2 definitions under the legacy
// Logstash names (see grok_patterns.h).
//
// Written for sluice from what each pattern must accept and reject (the
// conformance cases of tests/data/grok/ check 271 examples); no pattern file
// of another project is copied. Field names follow Logstash's legacy mode,
// because users' dashboards and configs depend on them.
//
// Where Onigmo constructs have no RE2 equivalent:
// - Lookbehind guards against starting inside a number or word
//   (BASE10NUM, BASE16NUM, IPV4, QUOTEDSTRING) are dropped or become \b:
//   leftmost-first search already starts at the earliest position, so they
//   only change results in unusual inputs such as "x1.2.3.4".
// - Trailing (?![0-9]) guards (IPV4, TIME, HAPROXYTIME) become \b (IPV4) or are
//   dropped (TIME): SECOND and IPV4 octets list their longest alternative
//   first, so greedy matching takes all digits anyway.
// - Atomic groups (YEAR, BASE10NUM, QUOTEDSTRING, WINPATH) become plain
//   groups: same language, only the backtracking differs.
// - SYSLOGPAMSESSION captured `message` inside a lookahead; here `message`
//   is an ordinary group around the rest of the line, with the same value.
// - MONGO_QUERY's lookbehind/lookahead pair becomes `\{ .* \}`; the
//   " ntoreturn:" that followed is matched by MONGO_SLOWQUERY itself.
// - UNIXPATH's Onigmo nested class [[:alnum:]] is Unicode-aware, so it is
//   written with \p{L}\p{M}\p{N}; RUUID's \h is [0-9A-Fa-f].
// - SHOREWALL's `.?*` is `.*`; RAILS3HEAD's Ruby `(?m)` (dot matches newline)
//   is the default of every grok pattern here (RE2 dot_nl).

#include "parsers/grok_patterns.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::parsers {
namespace {

constexpr PatternDefinition
    kBuiltin[] =
        {
            // ---- core (grok-patterns) ----
            {"USERNAME", R"grok([a-zA-Z0-9._-]+)grok"},
            {"USER", R"grok(%{USERNAME})grok"},
            {"EMAILLOCALPART", R"grok([a-zA-Z][a-zA-Z0-9_.+-=:]+)grok"},
            {"EMAILADDRESS", R"grok(%{EMAILLOCALPART}@%{HOSTNAME})grok"},
            {"INT", R"grok([+-]?[0-9]+)grok"},
            {"BASE10NUM", R"grok([+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+))grok"},
            {"NUMBER", R"grok(%{BASE10NUM})grok"},
            {"BASE16NUM", R"grok([+-]?(?:0x)?[0-9A-Fa-f]+)grok"},
            {"BASE16FLOAT",
             R"grok(\b[+-]?(?:0x)?(?:[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?|\.[0-9A-Fa-f]+)\b)grok"},
            {"POSINT", R"grok(\b[1-9][0-9]*\b)grok"},
            {"NONNEGINT", R"grok(\b[0-9]+\b)grok"},
            {"WORD", R"grok(\b\w+\b)grok"},
            {"NOTSPACE", R"grok(\S+)grok"},
            {"SPACE", R"grok(\s*)grok"},
            {"DATA", R"grok(.*?)grok"},
            {"GREEDYDATA", R"grok(.*)grok"},
            {"QUOTEDSTRING",
             R"grok("(?:\\.|[^\\"])*"|'(?:\\.|[^\\'])*'|`(?:\\.|[^\\`])*`)grok"},
            {"UUID",
             R"grok([A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12})grok"},
            {"URN",
             R"grok(urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:(?:%[0-9a-fA-F]{2}|[0-9A-Za-z()+,.:=@;$_!*'/?#-])+)grok"},
            {"MAC", R"grok(%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})grok"},
            {"CISCOMAC", R"grok((?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4})grok"},
            {"WINDOWSMAC", R"grok((?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})grok"},
            {"COMMONMAC", R"grok((?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})grok"},
            {"IPV6",
             R"grok((?:(?:[0-9A-Fa-f]{1,4}:){7}(?:[0-9A-Fa-f]{1,4}|:)|(?:[0-9A-Fa-f]{1,4}:){6}(?::[0-9A-Fa-f]{1,4}|(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|(?:[0-9A-Fa-f]{1,4}:){5}(?:(?::[0-9A-Fa-f]{1,4}){1,2}|:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|(?:[0-9A-Fa-f]{1,4}:){4}(?:(?::[0-9A-Fa-f]{1,4}){1,3}|(?::[0-9A-Fa-f]{1,4})?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|(?:[0-9A-Fa-f]{1,4}:){3}(?:(?::[0-9A-Fa-f]{1,4}){1,4}|(?::[0-9A-Fa-f]{1,4}){0,2}:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|(?:[0-9A-Fa-f]{1,4}:){2}(?:(?::[0-9A-Fa-f]{1,4}){1,5}|(?::[0-9A-Fa-f]{1,4}){0,3}:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|(?:[0-9A-Fa-f]{1,4}:){1}(?:(?::[0-9A-Fa-f]{1,4}){1,6}|(?::[0-9A-Fa-f]{1,4}){0,4}:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:)|:(?:(?::[0-9A-Fa-f]{1,4}){1,7}|(?::[0-9A-Fa-f]{1,4}){0,5}:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|:))(?:%.+)?)grok"},
            {"IPV4",
             R"grok(\b(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)){3}\b)grok"},
            {"IP", R"grok(%{IPV6}|%{IPV4})grok"},
            {"HOSTNAME",
             R"grok(\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*(?:\.|\b))grok"},
            {"IPORHOST", R"grok(%{IP}|%{HOSTNAME})grok"},
            {"HOSTPORT", R"grok(%{IPORHOST}:%{POSINT})grok"},
            {"PATH", R"grok(%{UNIXPATH}|%{WINPATH})grok"},
            {"UNIXPATH", R"grok((?:/[\p{L}\p{M}\p{N}_%!$@:.,+~-]*)+)grok"},
            {"TTY", R"grok(/dev/(?:pts|tty[pq]?)(?:\w+)?/?[0-9]+)grok"},
            {"WINPATH", R"grok((?:[A-Za-z]+:|\\)(?:\\[^\\?*]*)+)grok"},
            {"URIPROTO", R"grok([A-Za-z][A-Za-z0-9+.-]+)grok"},
            {"URIHOST", R"grok(%{IPORHOST}(?::%{POSINT:port})?)grok"},
            {"URIPATH", R"grok((?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+)grok"},
            {"URIPARAM",
             R"grok(\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*)grok"},
            {"URIPATHPARAM", R"grok(%{URIPATH}(?:%{URIPARAM})?)grok"},
            {"URI",
             R"grok(%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?)grok"},
            {"MONTH",
             R"grok(\b(?:[Jj]an(?:uary|uar)?|[Ff]eb(?:ruary|ruar)?|[Mm](?:a|ä)?r(?:ch|z)?|[Aa]pr(?:il)?|[Mm]a(?:y|i)?|[Jj]un(?:e|i)?|[Jj]ul(?:y|i)?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo](?:c|k)?t(?:ober)?|[Nn]ov(?:ember)?|[Dd]e(?:c|z)(?:ember)?)\b)grok"},
            {"MONTHNUM", R"grok(0?[1-9]|1[0-2])grok"},
            {"MONTHNUM2", R"grok(0[1-9]|1[0-2])grok"},
            {"MONTHDAY", R"grok(0[1-9]|[12][0-9]|3[01]|[1-9])grok"},
            {"DAY",
             R"grok(Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)grok"},
            {"YEAR", R"grok((?:\d\d){1,2})grok"},
            {"HOUR", R"grok(2[0123]|[01]?[0-9])grok"},
            {"MINUTE", R"grok([0-5][0-9])grok"},
            {"SECOND", R"grok((?:60|[0-5]?[0-9])(?:[:.,][0-9]+)?)grok"},
            {"TIME", R"grok(%{HOUR}:%{MINUTE}(?::%{SECOND}))grok"},
            {"DATE_US", R"grok(%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR})grok"},
            {"DATE_EU", R"grok(%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR})grok"},
            {"ISO8601_TIMEZONE", R"grok(Z|[+-]%{HOUR}(?::?%{MINUTE}))grok"},
            {"ISO8601_SECOND", R"grok(%{SECOND}|60)grok"},
            {"TIMESTAMP_ISO8601", R"grok(%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?)grok"},
            {"DATE", R"grok(%{DATE_US}|%{DATE_EU})grok"},
            {"DATESTAMP", R"grok(%{DATE}[- ]%{TIME})grok"},
            {"TZ", R"grok([APMCE][SD]T|UTC)grok"},
            {"DATESTAMP_RFC822",
             R"grok(%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ})grok"},
            {"DATESTAMP_RFC2822",
             R"grok(%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE})grok"},
            {"DATESTAMP_OTHER",
             R"grok(%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR})grok"},
            {"DATESTAMP_EVENTLOG",
             R"grok(%{YEAR}%{MONTHNUM2}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND})grok"},
            {"SYSLOGTIMESTAMP", R"grok(%{MONTH} +%{MONTHDAY} %{TIME})grok"},
            {"PROG", R"grok([\x21-\x5a\x5c\x5e-\x7e]+)grok"},
            {"SYSLOGPROG", R"grok(%{PROG:program}(?:\[%{POSINT:pid}\])?)grok"},
            {"SYSLOGHOST", R"grok(%{IPORHOST})grok"},
            {"SYSLOGFACILITY",
             R"grok(<%{NONNEGINT:facility}.%{NONNEGINT:priority}>)grok"},
            {"HTTPDATE",
             R"grok(%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT})grok"},
            {"QS", R"grok(%{QUOTEDSTRING})grok"},
            {"SYSLOGBASE",
             R"grok(%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:)grok"},
            {"LOGLEVEL",
             R"grok([Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)grok"},
            // ---- httpd ----
            {"HTTPDUSER", R"grok(%{EMAILADDRESS}|%{USER})grok"},
            {"HTTPDERROR_DATE",
             R"grok(%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR})grok"},
            {"HTTPD_COMMONLOG",
             R"grok(%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" (?:-|%{NUMBER:response}) (?:-|%{NUMBER:bytes}))grok"},
            {"HTTPD_COMBINEDLOG",
             R"grok(%{HTTPD_COMMONLOG} %{QS:referrer} %{QS:agent})grok"},
            {"HTTPD20_ERRORLOG",
             R"grok(\[%{HTTPDERROR_DATE:timestamp}\] \[%{LOGLEVEL:loglevel}\] (?:\[client %{IPORHOST:clientip}\] ){0,1}%{GREEDYDATA:message})grok"},
            {"HTTPD24_ERRORLOG",
             R"grok(\[%{HTTPDERROR_DATE:timestamp}\] \[%{WORD:module}?:%{LOGLEVEL:loglevel}\] \[pid %{POSINT:pid}(?::tid %{NUMBER:tid})?\](?: \(%{POSINT:proxy_errorcode}\)%{DATA:proxy_message}:)?(?: \[client %{IPORHOST:clientip}:%{POSINT:clientport}\])?(?: %{DATA:errorcode}:)? %{GREEDYDATA:message})grok"},
            {"HTTPD_ERRORLOG",
             R"grok(%{HTTPD20_ERRORLOG}|%{HTTPD24_ERRORLOG})grok"},
            {"COMMONAPACHELOG", R"grok(%{HTTPD_COMMONLOG})grok"},
            {"COMBINEDAPACHELOG", R"grok(%{HTTPD_COMBINEDLOG})grok"},
            // ---- linux-syslog ----
            {"SYSLOG5424PRINTASCII", R"grok([!-~]+)grok"},
            {"SYSLOGBASE2",
             R"grok((?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp8601}) (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource}+(?: %{SYSLOGPROG}:|))grok"},
            {"SYSLOGPAMSESSION",
             R"grok(%{SYSLOGBASE} (?<message>%{WORD:pam_module}\(%{DATA:pam_caller}\): session %{WORD:pam_session_state} for user %{USERNAME:username}(?: by %{GREEDYDATA:pam_by})?.*))grok"},
            {"CRON_ACTION", R"grok([A-Z ]+)grok"},
            {"CRONLOG",
             R"grok(%{SYSLOGBASE} \(%{USER:user}\) %{CRON_ACTION:action} \(%{DATA:message}\))grok"},
            {"SYSLOGLINE", R"grok(%{SYSLOGBASE2} %{GREEDYDATA:message})grok"},
            {"SYSLOG5424PRI", R"grok(<%{NONNEGINT:syslog5424_pri}>)grok"},
            {"SYSLOG5424SD", R"grok(\[%{DATA}\]+)grok"},
            {"SYSLOG5424BASE",
             R"grok(%{SYSLOG5424PRI}%{NONNEGINT:syslog5424_ver} +(?:%{TIMESTAMP_ISO8601:syslog5424_ts}|-) +(?:%{IPORHOST:syslog5424_host}|-) +(?:-|%{SYSLOG5424PRINTASCII:syslog5424_app}) +(?:-|%{SYSLOG5424PRINTASCII:syslog5424_proc}) +(?:-|%{SYSLOG5424PRINTASCII:syslog5424_msgid}) +(?:%{SYSLOG5424SD:syslog5424_sd}|-|))grok"},
            {"SYSLOG5424LINE",
             R"grok(%{SYSLOG5424BASE} +%{GREEDYDATA:syslog5424_msg})grok"},
            // ---- aws ----
            {"S3_REQUEST_LINE",
             R"grok((?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest}))grok"},
            {"S3_ACCESS_LOG",
             R"grok(%{WORD:owner} %{NOTSPACE:bucket} \[%{HTTPDATE:timestamp}\] %{IP:clientip} %{NOTSPACE:requester} %{NOTSPACE:request_id} %{NOTSPACE:operation} %{NOTSPACE:key} (?:"%{S3_REQUEST_LINE}"|-) (?:%{INT:response:int}|-) (?:-|%{NOTSPACE:error_code}) (?:%{INT:bytes:int}|-) (?:%{INT:object_size:int}|-) (?:%{INT:request_time_ms:int}|-) (?:%{INT:turnaround_time_ms:int}|-) (?:%{QS:referrer}|-) (?:"?%{QS:agent}"?|-) (?:-|%{NOTSPACE:version_id}))grok"},
            {"ELB_URIPATHPARAM",
             R"grok(%{URIPATH:path}(?:%{URIPARAM:params})?)grok"},
            {"ELB_URI",
             R"grok(%{URIPROTO:proto}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST:urihost})?(?:%{ELB_URIPATHPARAM})?)grok"},
            {"ELB_REQUEST_LINE",
             R"grok((?:%{WORD:verb} %{ELB_URI:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest}))grok"},
            {"ELB_ACCESS_LOG",
             R"grok(%{TIMESTAMP_ISO8601:timestamp} %{NOTSPACE:elb} %{IP:clientip}:%{INT:clientport:int} (?:%{IP:backendip}:?:%{INT:backendport:int}|-) %{NUMBER:request_processing_time:float} %{NUMBER:backend_processing_time:float} %{NUMBER:response_processing_time:float} (?:%{INT:response:int}|-) (?:%{INT:backend_response:int}|-) %{INT:received_bytes:int} %{INT:bytes:int} "%{ELB_REQUEST_LINE}")grok"},
            {"CLOUDFRONT_ACCESS_LOG",
             R"grok((?<timestamp>%{YEAR}-%{MONTHNUM}-%{MONTHDAY}\t%{TIME})\t%{WORD:x_edge_location}\t(?:%{NUMBER:sc_bytes:int}|-)\t%{IPORHOST:clientip}\t%{WORD:cs_method}\t%{HOSTNAME:cs_host}\t%{NOTSPACE:cs_uri_stem}\t%{NUMBER:sc_status:int}\t%{GREEDYDATA:referrer}\t%{GREEDYDATA:agent}\t%{GREEDYDATA:cs_uri_query}\t%{GREEDYDATA:cookies}\t%{WORD:x_edge_result_type}\t%{NOTSPACE:x_edge_request_id}\t%{HOSTNAME:x_host_header}\t%{URIPROTO:cs_protocol}\t%{INT:cs_bytes:int}\t%{GREEDYDATA:time_taken:float}\t%{GREEDYDATA:x_forwarded_for}\t%{GREEDYDATA:ssl_protocol}\t%{GREEDYDATA:ssl_cipher}\t%{GREEDYDATA:x_edge_response_result_type})grok"},
            // ---- bacula ----
            {"BACULA_TIMESTAMP",
             R"grok(%{MONTHDAY}-%{MONTH}(?:-%{YEAR})? %{HOUR}:%{MINUTE})grok"},
            {"BACULA_HOST", R"grok([a-zA-Z0-9-]+)grok"},
            {"BACULA_VOLUME", R"grok(%{USER})grok"},
            {"BACULA_DEVICE", R"grok(%{USER})grok"},
            {"BACULA_DEVICEPATH", R"grok(%{UNIXPATH})grok"},
            {"BACULA_CAPACITY", R"grok(%{INT}{1,3}(?:,%{INT}{3})*)grok"},
            {"BACULA_VERSION", R"grok(%{USER})grok"},
            {"BACULA_JOB", R"grok(%{USER})grok"},
            {"BACULA_LOG_MAX_CAPACITY",
             R"grok(User defined maximum volume capacity %{BACULA_CAPACITY} exceeded on device "%{BACULA_DEVICE:device}" \(%{BACULA_DEVICEPATH}\))grok"},
            {"BACULA_LOG_END_VOLUME",
             R"grok(End of medium on Volume "%{BACULA_VOLUME:volume}" Bytes=%{BACULA_CAPACITY} Blocks=%{BACULA_CAPACITY} at %{MONTHDAY}-%{MONTH}-%{YEAR} %{HOUR}:%{MINUTE}\.)grok"},
            {"BACULA_LOG_NEW_VOLUME",
             R"grok(Created new Volume "%{BACULA_VOLUME:volume}" in catalog\.)grok"},
            {"BACULA_LOG_NEW_LABEL",
             R"grok(Labeled new Volume "%{BACULA_VOLUME:volume}" on device "%{BACULA_DEVICE:device}" \(%{BACULA_DEVICEPATH}\)\.)grok"},
            {"BACULA_LOG_WROTE_LABEL", R"grok(Wrote label to prelabeled Volume "%{BACULA_VOLUME:volume}" on device "%{BACULA_DEVICE}" \(%{BACULA_DEVICEPATH}\))grok"},
            {"BACULA_LOG_NEW_MOUNT",
             R"grok(New volume "%{BACULA_VOLUME:volume}" mounted on device "%{BACULA_DEVICE:device}" \(%{BACULA_DEVICEPATH}\) at %{MONTHDAY}-%{MONTH}-%{YEAR} %{HOUR}:%{MINUTE}\.)grok"},
            {"BACULA_LOG_NOOPEN",
             R"grok(\s*Cannot open %{DATA}: ERR=%{GREEDYDATA:berror})grok"},
            {"BACULA_LOG_NOOPENDIR",
             R"grok(\s*Could not open directory "?%{DATA}"?: ERR=%{GREEDYDATA:berror})grok"},
            {"BACULA_LOG_NOSTAT",
             R"grok(\s*Could not stat %{DATA}: ERR=%{GREEDYDATA:berror})grok"},
            {"BACULA_LOG_NOJOBS",
             R"grok(There are no more Jobs associated with Volume "%{BACULA_VOLUME:volume}"\. Marking it purged\.)grok"},
            {"BACULA_LOG_ALL_RECORDS_PRUNED",
             R"grok(.*?All records pruned from Volume "%{BACULA_VOLUME:volume}"; marking it "Purged")grok"},
            {"BACULA_LOG_BEGIN_PRUNE_JOBS",
             R"grok(Begin pruning Jobs older than %{INT} month %{INT} days \.)grok"},
            {"BACULA_LOG_BEGIN_PRUNE_FILES",
             R"grok(Begin pruning Files\.)grok"},
            {"BACULA_LOG_PRUNED_JOBS",
             R"grok(Pruned %{INT} Jobs? for client %{BACULA_HOST:client} from catalog\.)grok"},
            {"BACULA_LOG_PRUNED_FILES",
             R"grok(Pruned Files from %{INT} Jobs? for client %{BACULA_HOST:client} from catalog\.)grok"},
            {"BACULA_LOG_ENDPRUNE", R"grok(End auto prune\.)grok"},
            {"BACULA_LOG_STARTJOB",
             R"grok(Start Backup JobId %{INT}, Job=%{BACULA_JOB:job})grok"},
            {"BACULA_LOG_STARTRESTORE",
             R"grok(Start Restore Job %{BACULA_JOB:job})grok"},
            {"BACULA_LOG_USEDEVICE",
             R"grok(Using Device "%{BACULA_DEVICE:device}")grok"},
            {"BACULA_LOG_DIFF_FS",
             R"grok(\s*%{UNIXPATH} is a different filesystem\. Will not descend from %{UNIXPATH} into it\.)grok"},
            {"BACULA_LOG_JOBEND",
             R"grok(Job write elapsed time = %{DATA:elapsed}, Transfer rate = %{NUMBER} (?:K|M|G)? Bytes/second)grok"},
            {"BACULA_LOG_NOPRUNE_JOBS", R"grok(No Jobs found to prune\.)grok"},
            {"BACULA_LOG_NOPRUNE_FILES",
             R"grok(No Files found to prune\.)grok"},
            {"BACULA_LOG_VOLUME_PREVWRITTEN",
             R"grok(Volume "?%{BACULA_VOLUME:volume}"? previously written, moving to end of data\.)grok"},
            {"BACULA_LOG_READYAPPEND",
             R"grok(Ready to append to end of Volume "%{BACULA_VOLUME:volume}" size=%{INT})grok"},
            {"BACULA_LOG_CANCELLING",
             R"grok(Cancelling duplicate JobId=%{INT}\.)grok"},
            {"BACULA_LOG_MARKCANCEL",
             R"grok(JobId %{INT}, Job %{BACULA_JOB:job} marked to be canceled\.)grok"},
            {"BACULA_LOG_CLIENT_RBJ",
             R"grok(shell command: run ClientRunBeforeJob "%{GREEDYDATA:runjob}")grok"},
            {"BACULA_LOG_VSS", R"grok((?:Generate )?VSS (?:Writer)?)grok"},
            {"BACULA_LOG_MAXSTART",
             R"grok(Fatal error: Job canceled because max start delay time exceeded\.)grok"},
            {"BACULA_LOG_DUPLICATE",
             R"grok(Fatal error: JobId %{INT:duplicate} already running\. Duplicate job not allowed\.)grok"},
            {"BACULA_LOG_NOJOBSTAT",
             R"grok(Fatal error: No Job status returned from FD\.)grok"},
            {"BACULA_LOG_FATAL_CONN",
             R"grok(Fatal error: bsock\.c:133 Unable to connect to (?:Client: %{BACULA_HOST:client}|Storage daemon) on %{HOSTNAME}:%{POSINT}\. ERR=(?<berror>%{GREEDYDATA}))grok"},
            {"BACULA_LOG_NO_CONNECT",
             R"grok(Warning: bsock\.c:127 Could not connect to (?:Client: %{BACULA_HOST:client}|Storage daemon) on %{HOSTNAME}:%{POSINT}\. ERR=(?<berror>%{GREEDYDATA}))grok"},
            {"BACULA_LOG_NO_AUTH",
             R"grok(Fatal error: Unable to authenticate with File daemon at "?%{HOSTNAME}(?::%{POSINT})?"?\. Possible causes:)grok"},
            {"BACULA_LOG_NOSUIT",
             R"grok(No prior or suitable Full backup found in catalog\. Doing FULL backup\.)grok"},
            {"BACULA_LOG_NOPRIOR",
             R"grok(No prior Full backup Job record found\.)grok"},
            {"BACULA_LOG_JOB",
             R"grok((?:Error: )?Bacula %{BACULA_HOST} %{BACULA_VERSION} \(%{BACULA_VERSION}\):)grok"},
            {"BACULA_LOGLINE",
             R"grok(%{BACULA_TIMESTAMP:bts} %{BACULA_HOST:hostname}(?: JobId %{INT:jobid})?:? (?:%{BACULA_LOG_MAX_CAPACITY}|%{BACULA_LOG_END_VOLUME}|%{BACULA_LOG_NEW_VOLUME}|%{BACULA_LOG_NEW_LABEL}|%{BACULA_LOG_WROTE_LABEL}|%{BACULA_LOG_NEW_MOUNT}|%{BACULA_LOG_NOOPEN}|%{BACULA_LOG_NOOPENDIR}|%{BACULA_LOG_NOSTAT}|%{BACULA_LOG_NOJOBS}|%{BACULA_LOG_ALL_RECORDS_PRUNED}|%{BACULA_LOG_BEGIN_PRUNE_JOBS}|%{BACULA_LOG_BEGIN_PRUNE_FILES}|%{BACULA_LOG_PRUNED_JOBS}|%{BACULA_LOG_PRUNED_FILES}|%{BACULA_LOG_ENDPRUNE}|%{BACULA_LOG_STARTJOB}|%{BACULA_LOG_STARTRESTORE}|%{BACULA_LOG_USEDEVICE}|%{BACULA_LOG_DIFF_FS}|%{BACULA_LOG_JOBEND}|%{BACULA_LOG_NOPRUNE_JOBS}|%{BACULA_LOG_NOPRUNE_FILES}|%{BACULA_LOG_VOLUME_PREVWRITTEN}|%{BACULA_LOG_READYAPPEND}|%{BACULA_LOG_CANCELLING}|%{BACULA_LOG_MARKCANCEL}|%{BACULA_LOG_CLIENT_RBJ}|%{BACULA_LOG_VSS}|%{BACULA_LOG_MAXSTART}|%{BACULA_LOG_DUPLICATE}|%{BACULA_LOG_NOJOBSTAT}|%{BACULA_LOG_FATAL_CONN}|%{BACULA_LOG_NO_CONNECT}|%{BACULA_LOG_NO_AUTH}|%{BACULA_LOG_NOSUIT}|%{BACULA_LOG_NOPRIOR}|%{BACULA_LOG_JOB}))grok"},
            // ---- bind ----
            {"BIND9_TIMESTAMP",
             R"grok(%{MONTHDAY}[-]%{MONTH}[-]%{YEAR} %{TIME})grok"},
            {"BIND9",
             R"grok(%{BIND9_TIMESTAMP:timestamp} queries: %{LOGLEVEL:loglevel}: client(?: @0x[0-9A-Fa-f]+)? %{IP:clientip}#%{POSINT:clientport} \(%{GREEDYDATA:query}\): query: %{GREEDYDATA:query} IN %{GREEDYDATA:querytype} \(%{IP:dns}\))grok"},
            // ---- bro ----
            {"BRO_HTTP",
             R"grok(%{NUMBER:ts}\t%{NOTSPACE:uid}\t%{IP:orig_h}\t%{INT:orig_p}\t%{IP:resp_h}\t%{INT:resp_p}\t%{INT:trans_depth}\t%{GREEDYDATA:method}\t%{GREEDYDATA:domain}\t%{GREEDYDATA:uri}\t%{GREEDYDATA:referrer}\t%{GREEDYDATA:user_agent}\t%{NUMBER:request_body_len}\t%{NUMBER:response_body_len}\t%{GREEDYDATA:status_code}\t%{GREEDYDATA:status_msg}\t%{GREEDYDATA:info_code}\t%{GREEDYDATA:info_msg}\t%{GREEDYDATA:filename}\t%{GREEDYDATA:bro_tags}\t%{GREEDYDATA:username}\t%{GREEDYDATA:password}\t%{GREEDYDATA:proxied}\t%{GREEDYDATA:orig_fuids}\t%{GREEDYDATA:orig_mime_types}\t%{GREEDYDATA:resp_fuids}\t%{GREEDYDATA:resp_mime_types})grok"},
            {"BRO_DNS",
             R"grok(%{NUMBER:ts}\t%{NOTSPACE:uid}\t%{IP:orig_h}\t%{INT:orig_p}\t%{IP:resp_h}\t%{INT:resp_p}\t%{WORD:proto}\t%{INT:trans_id}\t%{GREEDYDATA:query}\t%{GREEDYDATA:qclass}\t%{GREEDYDATA:qclass_name}\t%{GREEDYDATA:qtype}\t%{GREEDYDATA:qtype_name}\t%{GREEDYDATA:rcode}\t%{GREEDYDATA:rcode_name}\t%{GREEDYDATA:AA}\t%{GREEDYDATA:TC}\t%{GREEDYDATA:RD}\t%{GREEDYDATA:RA}\t%{GREEDYDATA:Z}\t%{GREEDYDATA:answers}\t%{GREEDYDATA:TTLs}\t%{GREEDYDATA:rejected})grok"},
            {"BRO_CONN",
             R"grok(%{NUMBER:ts}\t%{NOTSPACE:uid}\t%{IP:orig_h}\t%{INT:orig_p}\t%{IP:resp_h}\t%{INT:resp_p}\t%{WORD:proto}\t%{GREEDYDATA:service}\t%{NUMBER:duration}\t%{NUMBER:orig_bytes}\t%{NUMBER:resp_bytes}\t%{GREEDYDATA:conn_state}\t%{GREEDYDATA:local_orig}\t%{GREEDYDATA:missed_bytes}\t%{GREEDYDATA:history}\t%{GREEDYDATA:orig_pkts}\t%{GREEDYDATA:orig_ip_bytes}\t%{GREEDYDATA:resp_pkts}\t%{GREEDYDATA:resp_ip_bytes}\t%{GREEDYDATA:tunnel_parents})grok"},
            {"BRO_FILES",
             R"grok(%{NUMBER:ts}\t%{NOTSPACE:fuid}\t%{IP:tx_hosts}\t%{IP:rx_hosts}\t%{NOTSPACE:conn_uids}\t%{GREEDYDATA:source}\t%{GREEDYDATA:depth}\t%{GREEDYDATA:analyzers}\t%{GREEDYDATA:mime_type}\t%{GREEDYDATA:filename}\t%{GREEDYDATA:duration}\t%{GREEDYDATA:local_orig}\t%{GREEDYDATA:is_orig}\t%{GREEDYDATA:seen_bytes}\t%{GREEDYDATA:total_bytes}\t%{GREEDYDATA:missing_bytes}\t%{GREEDYDATA:overflow_bytes}\t%{GREEDYDATA:timedout}\t%{GREEDYDATA:parent_fuid}\t%{GREEDYDATA:md5}\t%{GREEDYDATA:sha1}\t%{GREEDYDATA:sha256}\t%{GREEDYDATA:extracted})grok"},
            // ---- exim ----
            {"EXIM_MSGID",
             R"grok([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2})grok"},
            {"EXIM_FLAGS", R"grok(<=|[-=>*]>|[*]{2}|==)grok"},
            {"EXIM_DATE",
             R"grok(%{YEAR:exim_year}-%{MONTHNUM:exim_month}-%{MONTHDAY:exim_day} %{TIME:exim_time})grok"},
            {"EXIM_PID", R"grok(\[%{POSINT:pid}\])grok"},
            {"EXIM_QT",
             R"grok((?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?)grok"},
            {"EXIM_EXCLUDE_TERMS",
             R"grok(Message is frozen|(?:Start|End) queue run| Warning: | retry time not reached | no (?:IP address|host name) found for (?:IP address|host) | unexpected disconnection while reading SMTP command | no immediate delivery: |another process is handling this message)grok"},
            {"EXIM_REMOTE_HOST",
             R"grok(H=(?:%{NOTSPACE:remote_hostname} )?(?:\(%{NOTSPACE:remote_heloname}\) )?\[%{IP:remote_host}\](?::%{POSINT:remote_port})?)grok"},
            {"EXIM_INTERFACE",
             R"grok(I=\[%{IP:exim_interface}\](?::%{NUMBER:exim_interface_port}))grok"},
            {"EXIM_PROTOCOL", R"grok(P=%{NOTSPACE:protocol})grok"},
            {"EXIM_MSG_SIZE", R"grok(S=%{NUMBER:exim_msg_size})grok"},
            {"EXIM_HEADER_ID", R"grok(id=%{NOTSPACE:exim_header_id})grok"},
            {"EXIM_SUBJECT", R"grok(T=%{QS:exim_subject})grok"},
            {"EXIM_UNKNOWN_FIELD", R"grok([A-Za-z0-9]{1,4}=%{NOTSPACE})grok"},
            {"EXIM_NAMED_FIELDS",
             R"grok((?: (?:%{EXIM_REMOTE_HOST}|%{EXIM_INTERFACE}|%{EXIM_PROTOCOL}|%{EXIM_MSG_SIZE}|%{EXIM_HEADER_ID}|%{EXIM_SUBJECT}|%{EXIM_UNKNOWN_FIELD}))*)grok"},
            {"EXIM_MESSAGE_ARRIVAL",
             R"grok(%{EXIM_DATE:timestamp} (?:%{EXIM_PID} )?%{EXIM_MSGID:exim_msgid} (?<exim_flags><=) (?<exim_sender_email>[^ ]*)%{EXIM_NAMED_FIELDS}(?:(?: from <?%{DATA:exim_envelope_sender}>?)? for %{NOTSPACE:exim_recipient_email})?)grok"},
            {"EXIM", R"grok(%{EXIM_MESSAGE_ARRIVAL})grok"},
            // ---- firewalls ----
            {"NETSCREENSESSIONLOG",
             R"grok(%{SYSLOGTIMESTAMP:date} %{IPORHOST:device} %{IPORHOST}: NetScreen device_id=%{WORD:device_id}%{DATA}: start_time=%{QUOTEDSTRING:start_time} duration=%{INT:duration} policy_id=%{INT:policy_id} service=%{DATA:service} proto=%{INT:proto} src zone=%{WORD:src_zone} dst zone=%{WORD:dst_zone} action=%{WORD:action} sent=%{INT:sent} rcvd=%{INT:rcvd} src=%{IPORHOST:src_ip} dst=%{IPORHOST:dst_ip} src_port=%{INT:src_port} dst_port=%{INT:dst_port} src-xlated ip=%{IPORHOST:src_xlated_ip} port=%{INT:src_xlated_port} dst-xlated ip=%{IPORHOST:dst_xlated_ip} port=%{INT:dst_xlated_port} session_id=%{INT:session_id} reason=%{GREEDYDATA:reason})grok"},
            {"CISCOTIMESTAMP",
             R"grok(%{MONTH} +%{MONTHDAY}(?: %{YEAR})? %{TIME})grok"},
            {"CISCOTAG", R"grok([A-Z0-9]+-%{INT}-(?:[A-Z0-9_]+))grok"},
            {"CISCO_TAGGED_SYSLOG",
             R"grok(^<%{POSINT:syslog_pri}>%{CISCOTIMESTAMP:timestamp}(?: %{SYSLOGHOST:sysloghost})? ?: %%{CISCOTAG:ciscotag}:)grok"},
            {"CISCO_ACTION",
             R"grok(Built|Teardown|Deny|Denied|denied|requested|permitted|denied by ACL|discarded|est-allowed|Dropping|created|deleted)grok"},
            {"CISCO_REASON",
             R"grok(Duplicate TCP SYN|Failed to locate egress interface|Invalid transport field|No matching connection|DNS Response|DNS Query|(?:%{WORD}\s*)*)grok"},
            {"CISCO_DIRECTION", R"grok(Inbound|inbound|Outbound|outbound)grok"},
            {"CISCO_INTERVAL", R"grok(first hit|%{INT}-second interval)grok"},
            {"CISCO_XLATE_TYPE", R"grok(static|dynamic)grok"},
            {"CISCOFW104001",
             R"grok(\((?:Primary|Secondary)\) Switching to ACTIVE - %{GREEDYDATA:switch_reason})grok"},
            {"CISCOFW104002",
             R"grok(\((?:Primary|Secondary)\) Switching to STANDBY - %{GREEDYDATA:switch_reason})grok"},
            {"CISCOFW104003",
             R"grok(\((?:Primary|Secondary)\) Switching to FAILED\.)grok"},
            {"CISCOFW104004",
             R"grok(\((?:Primary|Secondary)\) Switching to OK\.)grok"},
            {"CISCOFW105003",
             R"grok(\((?:Primary|Secondary)\) Monitoring on [Ii]nterface %{GREEDYDATA:interface_name} waiting)grok"},
            {"CISCOFW105004",
             R"grok(\((?:Primary|Secondary)\) Monitoring on [Ii]nterface %{GREEDYDATA:interface_name} normal)grok"},
            {"CISCOFW105005",
             R"grok(\((?:Primary|Secondary)\) Lost Failover communications with mate on [Ii]nterface %{GREEDYDATA:interface_name})grok"},
            {"CISCOFW105008",
             R"grok(\((?:Primary|Secondary)\) Testing [Ii]nterface %{GREEDYDATA:interface_name})grok"},
            {"CISCOFW105009",
             R"grok(\((?:Primary|Secondary)\) Testing on [Ii]nterface %{GREEDYDATA:interface_name} (?:Passed|Failed))grok"},
            {"CISCOFW106001",
             R"grok(%{CISCO_DIRECTION:direction} %{WORD:protocol} connection %{CISCO_ACTION:action} from %{IP:src_ip}/%{INT:src_port} to %{IP:dst_ip}/%{INT:dst_port} flags %{GREEDYDATA:tcp_flags} on interface %{GREEDYDATA:interface})grok"},
            {"CISCOFW106006_106007_106010",
             R"grok(%{CISCO_ACTION:action} %{CISCO_DIRECTION:direction} %{WORD:protocol} (?:from|src) %{IP:src_ip}/%{INT:src_port}(?:\(%{DATA:src_fwuser}\))? (?:to|dst) %{IP:dst_ip}/%{INT:dst_port}(?:\(%{DATA:dst_fwuser}\))? (?:on interface %{DATA:interface}|due to %{CISCO_REASON:reason}))grok"},
            {"CISCOFW106014",
             R"grok(%{CISCO_ACTION:action} %{CISCO_DIRECTION:direction} %{WORD:protocol} src %{DATA:src_interface}:%{IP:src_ip}(?:\(%{DATA:src_fwuser}\))? dst %{DATA:dst_interface}:%{IP:dst_ip}(?:\(%{DATA:dst_fwuser}\))? \(type %{INT:icmp_type}, code %{INT:icmp_code}\))grok"},
            {"CISCOFW106015",
             R"grok(%{CISCO_ACTION:action} %{WORD:protocol} \(%{DATA:policy_id}\) from %{IP:src_ip}/%{INT:src_port} to %{IP:dst_ip}/%{INT:dst_port} flags %{DATA:tcp_flags} on interface %{GREEDYDATA:interface})grok"},
            {"CISCOFW106021",
             R"grok(%{CISCO_ACTION:action} %{WORD:protocol} reverse path check from %{IP:src_ip} to %{IP:dst_ip} on interface %{GREEDYDATA:interface})grok"},
            {"CISCOFW106023",
             R"grok(%{CISCO_ACTION:action}(?: protocol)? %{WORD:protocol} src %{DATA:src_interface}:%{DATA:src_ip}(?:/%{INT:src_port})?(?:\(%{DATA:src_fwuser}\))? dst %{DATA:dst_interface}:%{DATA:dst_ip}(?:/%{INT:dst_port})?(?:\(%{DATA:dst_fwuser}\))?(?: \(type %{INT:icmp_type}, code %{INT:icmp_code}\))? by access-group "?%{DATA:policy_id}"? \[%{DATA:hashcode1}, %{DATA:hashcode2}\])grok"},
            {"CISCOFW106100_2_3",
             R"grok(access-list %{NOTSPACE:policy_id} %{CISCO_ACTION:action} %{WORD:protocol} for user '%{DATA:src_fwuser}' %{DATA:src_interface}/%{IP:src_ip}\(%{INT:src_port}\) -> %{DATA:dst_interface}/%{IP:dst_ip}\(%{INT:dst_port}\) hit-cnt %{INT:hit_count} %{CISCO_INTERVAL:interval} \[%{DATA:hashcode1}, %{DATA:hashcode2}\])grok"},
            {"CISCOFW106100",
             R"grok(access-list %{NOTSPACE:policy_id} %{CISCO_ACTION:action} %{WORD:protocol} %{DATA:src_interface}/%{IP:src_ip}\(%{INT:src_port}\)(?:\(%{DATA:src_fwuser}\))? -> %{DATA:dst_interface}/%{IP:dst_ip}\(%{INT:dst_port}\)(?:\(%{DATA:src_fwuser}\))? hit-cnt %{INT:hit_count} %{CISCO_INTERVAL:interval} \[%{DATA:hashcode1}, %{DATA:hashcode2}\])grok"},
            {"CISCOFW110002",
             R"grok(%{CISCO_REASON:reason} for %{WORD:protocol} from %{DATA:src_interface}:%{IP:src_ip}/%{INT:src_port} to %{IP:dst_ip}/%{INT:dst_port})grok"},
            {"CISCOFW302010",
             R"grok(%{INT:connection_count} in use, %{INT:connection_count_max} most used)grok"},
            {"CISCOFW302013_302014_302015_302016", R"grok(%{CISCO_ACTION:action}(?: %{CISCO_DIRECTION:direction})? %{WORD:protocol} connection %{INT:connection_id} for %{DATA:src_interface}:%{IP:src_ip}/%{INT:src_port}(?: \(%{IP:src_xlated_ip}/%{INT:src_xlated_port}\))?(?:\(%{DATA:src_fwuser}\))? to %{DATA:dst_interface}:%{IP:dst_ip}/%{INT:dst_port}(?: \(%{IP:dst_xlated_ip}/%{INT:dst_xlated_port}\))?(?:\(%{DATA:dst_fwuser}\))?(?: duration %{TIME:duration} bytes %{INT:bytes})?(?: %{CISCO_REASON:reason})?(?: \(%{DATA:user}\))?)grok"},
            {"CISCOFW302020_302021",
             R"grok(%{CISCO_ACTION:action}(?: %{CISCO_DIRECTION:direction})? %{WORD:protocol} connection for faddr %{IP:dst_ip}/%{INT:icmp_seq_num}(?:\(%{DATA:fwuser}\))? gaddr %{IP:src_xlated_ip}/%{INT:icmp_code_xlated} laddr %{IP:src_ip}/%{INT:icmp_code}(?: \(%{DATA:user}\))?)grok"},
            {"CISCOFW304001",
             R"grok(%{IP:src_ip}(?:\(%{DATA:src_fwuser}\))? Accessed URL %{IP:dst_ip}:%{GREEDYDATA:dst_url})grok"},
            {"CISCOFW305011",
             R"grok(%{CISCO_ACTION:action} %{CISCO_XLATE_TYPE:xlate_type} %{WORD:protocol} translation from %{DATA:src_interface}:%{IP:src_ip}(?:/%{INT:src_port})?(?:\(%{DATA:src_fwuser}\))? to %{DATA:src_xlated_interface}:%{IP:src_xlated_ip}/%{DATA:src_xlated_port})grok"},
            {"CISCOFW313001_313004_313008",
             R"grok(%{CISCO_ACTION:action} %{WORD:protocol} type=%{INT:icmp_type}, code=%{INT:icmp_code} from %{IP:src_ip} on interface %{DATA:interface}(?: to %{IP:dst_ip})?)grok"},
            {"CISCOFW313005",
             R"grok(%{CISCO_REASON:reason} for %{WORD:protocol} error message: %{WORD:err_protocol} src %{DATA:err_src_interface}:%{IP:err_src_ip}(?:\(%{DATA:err_src_fwuser}\))? dst %{DATA:err_dst_interface}:%{IP:err_dst_ip}(?:\(%{DATA:err_dst_fwuser}\))? \(type %{INT:err_icmp_type}, code %{INT:err_icmp_code}\) on %{DATA:interface} interface\.\s+Original IP payload: %{WORD:protocol} src %{IP:orig_src_ip}/%{INT:orig_src_port}(?:\(%{DATA:orig_src_fwuser}\))? dst %{IP:orig_dst_ip}/%{INT:orig_dst_port}(?:\(%{DATA:orig_dst_fwuser}\))?)grok"},
            {"CISCOFW321001",
             R"grok(Resource '%{WORD:resource_name}' limit of %{POSINT:resource_limit} reached for system)grok"},
            {"CISCOFW402117",
             R"grok(%{WORD:protocol}: Received a non-IPSec packet \(protocol= %{WORD:orig_protocol}\) from %{IP:src_ip} to %{IP:dst_ip})grok"},
            {"CISCOFW402119", R"grok(%{WORD:protocol}: Received an %{WORD:orig_protocol} packet \(SPI= %{DATA:spi}, sequence number= %{DATA:seq_num}\) from %{IP:src_ip} \(user= %{DATA:user}\) to %{IP:dst_ip} that failed anti-replay checking)grok"},
            {"CISCOFW419001",
             R"grok(%{CISCO_ACTION:action} %{WORD:protocol} packet from %{DATA:src_interface}:%{IP:src_ip}/%{INT:src_port} to %{DATA:dst_interface}:%{IP:dst_ip}/%{INT:dst_port}, reason: %{GREEDYDATA:reason})grok"},
            {"CISCOFW419002",
             R"grok(%{CISCO_REASON:reason} from %{DATA:src_interface}:%{IP:src_ip}/%{INT:src_port} to %{DATA:dst_interface}:%{IP:dst_ip}/%{INT:dst_port} with different initial sequence number)grok"},
            {"CISCOFW500004",
             R"grok(%{CISCO_REASON:reason} for protocol=%{WORD:protocol}, from %{IP:src_ip}/%{INT:src_port} to %{IP:dst_ip}/%{INT:dst_port})grok"},
            {"CISCOFW602303_602304",
             R"grok(%{WORD:protocol}: An %{CISCO_DIRECTION:direction} %{GREEDYDATA:tunnel_type} SA \(SPI= %{DATA:spi}\) between %{IP:src_ip} and %{IP:dst_ip} \(user= %{DATA:user}\) has been %{CISCO_ACTION:action})grok"},
            {"CISCOFW710001_710002_710003_710005_710006",
             R"grok(%{WORD:protocol} (?:request|access) %{CISCO_ACTION:action} from (?:%{DATA:src_interface}:)?%{IP:src_ip}/%{INT:src_port} to %{DATA:dst_interface}:%{IP:dst_ip}/%{INT:dst_port})grok"},
            {"CISCOFW713172",
             R"grok(Group = %{GREEDYDATA:group}, IP = %{IP:src_ip}, Automatic NAT Detection Status:\s+Remote end\s*%{DATA:is_remote_natted}\s*behind a NAT device\s+This\s+end\s*%{DATA:is_local_natted}\s*behind a NAT device)grok"},
            {"CISCOFW733100",
             R"grok(\[\s*%{DATA:drop_type}\s*\] drop %{DATA:drop_rate_id} exceeded\. Current burst rate is %{INT:drop_rate_current_burst} per second, max configured rate is %{INT:drop_rate_max_burst}; Current average rate is %{INT:drop_rate_current_avg} per second, max configured rate is %{INT:drop_rate_max_avg}; Cumulative total count is %{INT:drop_total_count})grok"},
            {"SHOREWALL",
             R"grok(%{SYSLOGTIMESTAMP:timestamp} %{WORD:nf_host} .*Shorewall:(?:%{WORD:nf_action1})?:(?:%{WORD:nf_action2})?.*IN=(?:%{USERNAME:nf_in_interface})?.*(?:OUT= *MAC=(?:%{COMMONMAC:nf_dst_mac}:%{COMMONMAC:nf_src_mac})?|OUT=%{USERNAME:nf_out_interface}).*SRC=(?:%{IPV4:nf_src_ip})?.*DST=(?:%{IPV4:nf_dst_ip})?.*LEN=(?:%{WORD:nf_len})?.*?TOS=(?:%{WORD:nf_tos})?.*?PREC=(?:%{WORD:nf_prec})?.*?TTL=(?:%{INT:nf_ttl})?.*?ID=(?:%{INT:nf_id})?.*?PROTO=(?:%{WORD:nf_protocol})?.*?SPT=(?:%{INT:nf_src_port})?.*DPT=(?:%{INT:nf_dst_port})?.*)grok"},
            {"SFW2",
             R"grok((?:%{SYSLOGTIMESTAMP}|%{TIMESTAMP_ISO8601})\s*%{HOSTNAME}\s*kernel\S+\s*(?:%{NAGIOSTIME}\s*)?SFW2-INext-%{NOTSPACE:nf_action}\s*(?:IN=%{USERNAME:nf_in_interface}?)?\s*(?:OUT=%{USERNAME:nf_out_interface}?)?\s*(?:MAC=(?:%{COMMONMAC:nf_dst_mac}:%{COMMONMAC:nf_src_mac}(?::[A-Fa-f0-9]{2}:[A-Fa-f0-9]{2})?)?)?\s*SRC=%{IP:nf_src_ip}\s*DST=%{IP:nf_dst_ip}.*?PROTO=%{WORD:nf_protocol}(?:.*?SPT=%{INT:nf_src_port})?(?:.*?DPT=%{INT:nf_dst_port})?)grok"},
            // ---- haproxy ----
            {"HAPROXYTIME",
             R"grok(%{HOUR:haproxy_hour}:%{MINUTE:haproxy_minute}(?::%{SECOND:haproxy_second}))grok"},
            {"HAPROXYDATE",
             R"grok(%{MONTHDAY:haproxy_monthday}/%{MONTH:haproxy_month}/%{YEAR:haproxy_year}:%{HAPROXYTIME:haproxy_time}\.%{INT:haproxy_milliseconds})grok"},
            {"HAPROXYCAPTUREDREQUESTHEADERS",
             R"grok(%{DATA:captured_request_headers})grok"},
            {"HAPROXYCAPTUREDRESPONSEHEADERS",
             R"grok(%{DATA:captured_response_headers})grok"},
            {"HAPROXYHTTPBASE",
             R"grok(%{IP:client_ip}:%{INT:client_port} \[%{HAPROXYDATE:accept_date}\] %{NOTSPACE:frontend_name} %{NOTSPACE:backend_name}/%{NOTSPACE:server_name} %{INT:time_request}/%{INT:time_queue}/%{INT:time_backend_connect}/%{INT:time_backend_response}/%{NOTSPACE:time_duration} %{INT:http_status_code} %{NOTSPACE:bytes_read} %{DATA:captured_request_cookie} %{DATA:captured_response_cookie} %{NOTSPACE:termination_state} %{INT:actconn}/%{INT:feconn}/%{INT:beconn}/%{INT:srvconn}/%{NOTSPACE:retries} %{INT:srv_queue}/%{INT:backend_queue} (?:\{%{HAPROXYCAPTUREDREQUESTHEADERS}\})?(?: )?(?:\{%{HAPROXYCAPTUREDRESPONSEHEADERS}\})?(?: )?"(?:<BADREQ>|%{WORD:http_verb} (?:%{URIPROTO:http_proto}://)?(?:%{USER:http_user}(?::[^@]*)?@)?(?:%{URIHOST:http_host})?(?:%{URIPATHPARAM:http_request})?(?: HTTP/%{NUMBER:http_version})?)?"?)grok"},
            {"HAPROXYHTTP",
             R"grok((?:%{SYSLOGTIMESTAMP:syslog_timestamp}|%{TIMESTAMP_ISO8601:timestamp8601}) %{IPORHOST:syslog_server} %{SYSLOGPROG}: %{HAPROXYHTTPBASE})grok"},
            {"HAPROXYTCP",
             R"grok((?:%{SYSLOGTIMESTAMP:syslog_timestamp}|%{TIMESTAMP_ISO8601:timestamp8601}) %{IPORHOST:syslog_server} %{SYSLOGPROG}: %{IP:client_ip}:%{INT:client_port} \[%{HAPROXYDATE:accept_date}\] %{NOTSPACE:frontend_name} %{NOTSPACE:backend_name}/%{NOTSPACE:server_name} %{INT:time_queue}/%{INT:time_backend_connect}/%{NOTSPACE:time_duration} %{NOTSPACE:bytes_read} %{NOTSPACE:termination_state} %{INT:actconn}/%{INT:feconn}/%{INT:beconn}/%{INT:srvconn}/%{NOTSPACE:retries} %{INT:srv_queue}/%{INT:backend_queue})grok"},
            // ---- java ----
            {"JAVACLASS",
             R"grok((?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*)grok"},
            {"JAVAFILE", R"grok([a-zA-Z$_0-9. -]+)grok"},
            {"JAVAMETHOD", R"grok(<(?:cl)?init>|[a-zA-Z$_][a-zA-Z$_0-9]*)grok"},
            {"JAVASTACKTRACEPART",
             R"grok(%{SPACE}at %{JAVACLASS:class}\.%{JAVAMETHOD:method}\(%{JAVAFILE:file}(?::%{NUMBER:line})?\))grok"},
            {"JAVATHREAD", R"grok([A-Z]{2}-Processor[\d]+)grok"},
            {"JAVALOGMESSAGE", R"grok(.*)grok"},
            {"CATALINA_DATESTAMP",
             R"grok(%{MONTH} %{MONTHDAY}, 20%{YEAR} %{HOUR}:?%{MINUTE}(?::?%{SECOND}) (?:AM|PM))grok"},
            {"CATALINALOG",
             R"grok(%{CATALINA_DATESTAMP:timestamp} %{JAVACLASS:class} %{JAVALOGMESSAGE:logmessage})grok"},
            {"TOMCAT_DATESTAMP",
             R"grok(20%{YEAR}-%{MONTHNUM}-%{MONTHDAY} %{HOUR}:?%{MINUTE}(?::?%{SECOND}) %{ISO8601_TIMEZONE})grok"},
            {"TOMCATLOG",
             R"grok(%{TOMCAT_DATESTAMP:timestamp} \| %{LOGLEVEL:level} \| %{JAVACLASS:class} - %{JAVALOGMESSAGE:logmessage})grok"},
            // ---- junos ----
            {"RT_FLOW_EVENT",
             R"grok(RT_FLOW_SESSION_CREATE|RT_FLOW_SESSION_CLOSE|RT_FLOW_SESSION_DENY)grok"},
            {"RT_FLOW1",
             R"grok(%{RT_FLOW_EVENT:event}: %{GREEDYDATA:close-reason}: %{IP:src-ip}/%{INT:src-port}->%{IP:dst-ip}/%{INT:dst-port} %{DATA:service} %{IP:nat-src-ip}/%{INT:nat-src-port}->%{IP:nat-dst-ip}/%{INT:nat-dst-port} %{DATA:src-nat-rule-name} %{DATA:dst-nat-rule-name} %{INT:protocol-id} %{DATA:policy-name} %{DATA:from-zone} %{DATA:to-zone} %{INT:session-id} \d+\(%{DATA:sent}\) \d+\(%{DATA:received}\) %{INT:elapsed-time} .*)grok"},
            {"RT_FLOW2",
             R"grok(%{RT_FLOW_EVENT:event}: session created %{IP:src-ip}/%{INT:src-port}->%{IP:dst-ip}/%{INT:dst-port} %{DATA:service} %{IP:nat-src-ip}/%{INT:nat-src-port}->%{IP:nat-dst-ip}/%{INT:nat-dst-port} %{DATA:src-nat-rule-name} %{DATA:dst-nat-rule-name} %{INT:protocol-id} %{DATA:policy-name} %{DATA:from-zone} %{DATA:to-zone} %{INT:session-id} .*)grok"},
            {"RT_FLOW3",
             R"grok(%{RT_FLOW_EVENT:event}: session denied %{IP:src-ip}/%{INT:src-port}->%{IP:dst-ip}/%{INT:dst-port} %{DATA:service} %{INT:protocol-id}\(\d\) %{DATA:policy-name} %{DATA:from-zone} %{DATA:to-zone} .*)grok"},
            // ---- maven, mcollective ----
            {"MAVEN_VERSION",
             R"grok((?:\d+\.)?(?:\d+\.)?(?:\*|\d+)(?:[.-](?:RELEASE|SNAPSHOT))?)grok"},
            {"MCOLLECTIVE",
             R"grok(., \[%{TIMESTAMP_ISO8601:timestamp} #%{POSINT:pid}\]%{SPACE}%{LOGLEVEL:event_level})grok"},
            {"MCOLLECTIVEAUDIT", R"grok(%{TIMESTAMP_ISO8601:timestamp}:)grok"},
            // ---- mongodb ----
            {"MONGO_LOG",
             R"grok(%{SYSLOGTIMESTAMP:timestamp} \[%{WORD:component}\] %{GREEDYDATA:message})grok"},
            {"MONGO_QUERY", R"grok(\{ .* \})grok"},
            {"MONGO_SLOWQUERY",
             R"grok(%{WORD} %{MONGO_WORDDASH:database}\.%{MONGO_WORDDASH:collection} %{WORD}: %{MONGO_QUERY:query} %{WORD}:%{NONNEGINT:ntoreturn} %{WORD}:%{NONNEGINT:ntoskip} %{WORD}:%{NONNEGINT:nscanned}.*nreturned:%{NONNEGINT:nreturned}..+ (?<duration>[0-9]+)ms)grok"},
            {"MONGO_WORDDASH", R"grok(\b[\w-]+\b)grok"},
            {"MONGO3_SEVERITY", R"grok(\w)grok"},
            {"MONGO3_COMPONENT", R"grok(%{WORD}|-)grok"},
            {"MONGO3_LOG",
             R"grok(%{TIMESTAMP_ISO8601:timestamp} %{MONGO3_SEVERITY:severity} %{MONGO3_COMPONENT:component}%{SPACE}(?:\[%{DATA:context}\])? %{GREEDYDATA:message})grok"},
            // ---- nagios ----
            {"NAGIOSTIME", R"grok(\[%{NUMBER:nagios_epoch}\])grok"},
            {"NAGIOS_TYPE_CURRENT_SERVICE_STATE",
             R"grok(CURRENT SERVICE STATE)grok"},
            {"NAGIOS_TYPE_CURRENT_HOST_STATE", R"grok(CURRENT HOST STATE)grok"},
            {"NAGIOS_TYPE_SERVICE_NOTIFICATION",
             R"grok(SERVICE NOTIFICATION)grok"},
            {"NAGIOS_TYPE_HOST_NOTIFICATION", R"grok(HOST NOTIFICATION)grok"},
            {"NAGIOS_TYPE_SERVICE_ALERT", R"grok(SERVICE ALERT)grok"},
            {"NAGIOS_TYPE_HOST_ALERT", R"grok(HOST ALERT)grok"},
            {"NAGIOS_TYPE_SERVICE_FLAPPING_ALERT",
             R"grok(SERVICE FLAPPING ALERT)grok"},
            {"NAGIOS_TYPE_HOST_FLAPPING_ALERT",
             R"grok(HOST FLAPPING ALERT)grok"},
            {"NAGIOS_TYPE_SERVICE_DOWNTIME_ALERT",
             R"grok(SERVICE DOWNTIME ALERT)grok"},
            {"NAGIOS_TYPE_HOST_DOWNTIME_ALERT",
             R"grok(HOST DOWNTIME ALERT)grok"},
            {"NAGIOS_TYPE_PASSIVE_SERVICE_CHECK",
             R"grok(PASSIVE SERVICE CHECK)grok"},
            {"NAGIOS_TYPE_PASSIVE_HOST_CHECK", R"grok(PASSIVE HOST CHECK)grok"},
            {"NAGIOS_TYPE_SERVICE_EVENT_HANDLER",
             R"grok(SERVICE EVENT HANDLER)grok"},
            {"NAGIOS_TYPE_HOST_EVENT_HANDLER", R"grok(HOST EVENT HANDLER)grok"},
            {"NAGIOS_TYPE_EXTERNAL_COMMAND", R"grok(EXTERNAL COMMAND)grok"},
            {"NAGIOS_TYPE_TIMEPERIOD_TRANSITION",
             R"grok(TIMEPERIOD TRANSITION)grok"},
            {"NAGIOS_EC_DISABLE_SVC_CHECK", R"grok(DISABLE_SVC_CHECK)grok"},
            {"NAGIOS_EC_ENABLE_SVC_CHECK", R"grok(ENABLE_SVC_CHECK)grok"},
            {"NAGIOS_EC_DISABLE_HOST_CHECK", R"grok(DISABLE_HOST_CHECK)grok"},
            {"NAGIOS_EC_ENABLE_HOST_CHECK", R"grok(ENABLE_HOST_CHECK)grok"},
            {"NAGIOS_EC_PROCESS_SERVICE_CHECK_RESULT",
             R"grok(PROCESS_SERVICE_CHECK_RESULT)grok"},
            {"NAGIOS_EC_PROCESS_HOST_CHECK_RESULT",
             R"grok(PROCESS_HOST_CHECK_RESULT)grok"},
            {"NAGIOS_EC_SCHEDULE_SERVICE_DOWNTIME",
             R"grok(SCHEDULE_SERVICE_DOWNTIME)grok"},
            {"NAGIOS_EC_SCHEDULE_HOST_DOWNTIME",
             R"grok(SCHEDULE_HOST_DOWNTIME)grok"},
            {"NAGIOS_EC_DISABLE_HOST_SVC_NOTIFICATIONS",
             R"grok(DISABLE_HOST_SVC_NOTIFICATIONS)grok"},
            {"NAGIOS_EC_ENABLE_HOST_SVC_NOTIFICATIONS",
             R"grok(ENABLE_HOST_SVC_NOTIFICATIONS)grok"},
            {"NAGIOS_EC_DISABLE_HOST_NOTIFICATIONS",
             R"grok(DISABLE_HOST_NOTIFICATIONS)grok"},
            {"NAGIOS_EC_ENABLE_HOST_NOTIFICATIONS",
             R"grok(ENABLE_HOST_NOTIFICATIONS)grok"},
            {"NAGIOS_EC_DISABLE_SVC_NOTIFICATIONS",
             R"grok(DISABLE_SVC_NOTIFICATIONS)grok"},
            {"NAGIOS_EC_ENABLE_SVC_NOTIFICATIONS",
             R"grok(ENABLE_SVC_NOTIFICATIONS)grok"},
            {"NAGIOS_WARNING",
             R"grok(Warning:%{SPACE}%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_CURRENT_SERVICE_STATE",
             R"grok(%{NAGIOS_TYPE_CURRENT_SERVICE_STATE:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statetype};%{DATA:nagios_statecode};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_CURRENT_HOST_STATE",
             R"grok(%{NAGIOS_TYPE_CURRENT_HOST_STATE:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statetype};%{DATA:nagios_statecode};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_SERVICE_NOTIFICATION",
             R"grok(%{NAGIOS_TYPE_SERVICE_NOTIFICATION:nagios_type}: %{DATA:nagios_notifyname};%{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_contact};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_HOST_NOTIFICATION",
             R"grok(%{NAGIOS_TYPE_HOST_NOTIFICATION:nagios_type}: %{DATA:nagios_notifyname};%{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_contact};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_SERVICE_ALERT",
             R"grok(%{NAGIOS_TYPE_SERVICE_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{NUMBER:nagios_attempt};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_HOST_ALERT",
             R"grok(%{NAGIOS_TYPE_HOST_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{NUMBER:nagios_attempt};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_SERVICE_FLAPPING_ALERT",
             R"grok(%{NAGIOS_TYPE_SERVICE_FLAPPING_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_HOST_FLAPPING_ALERT",
             R"grok(%{NAGIOS_TYPE_HOST_FLAPPING_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_message})grok"},
            {"NAGIOS_SERVICE_DOWNTIME_ALERT",
             R"grok(%{NAGIOS_TYPE_SERVICE_DOWNTIME_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment})grok"},
            {"NAGIOS_HOST_DOWNTIME_ALERT",
             R"grok(%{NAGIOS_TYPE_HOST_DOWNTIME_ALERT:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment})grok"},
            {"NAGIOS_PASSIVE_SERVICE_CHECK", R"grok(%{NAGIOS_TYPE_PASSIVE_SERVICE_CHECK:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment})grok"},
            {"NAGIOS_PASSIVE_HOST_CHECK",
             R"grok(%{NAGIOS_TYPE_PASSIVE_HOST_CHECK:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_comment})grok"},
            {"NAGIOS_SERVICE_EVENT_HANDLER",
             R"grok(%{NAGIOS_TYPE_SERVICE_EVENT_HANDLER:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{DATA:nagios_event_handler_name})grok"},
            {"NAGIOS_HOST_EVENT_HANDLER",
             R"grok(%{NAGIOS_TYPE_HOST_EVENT_HANDLER:nagios_type}: %{DATA:nagios_hostname};%{DATA:nagios_state};%{DATA:nagios_statelevel};%{DATA:nagios_event_handler_name})grok"},
            {"NAGIOS_TIMEPERIOD_TRANSITION",
             R"grok(%{NAGIOS_TYPE_TIMEPERIOD_TRANSITION:nagios_type}: %{DATA:nagios_service};%{NUMBER:nagios_unknown1};%{NUMBER:nagios_unknown2})grok"},
            {"NAGIOS_EC_LINE_DISABLE_SVC_CHECK",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_DISABLE_SVC_CHECK:nagios_command};%{DATA:nagios_hostname};%{DATA:nagios_service})grok"},
            {"NAGIOS_EC_LINE_ENABLE_SVC_CHECK",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_ENABLE_SVC_CHECK:nagios_command};%{DATA:nagios_hostname};%{DATA:nagios_service})grok"},
            {"NAGIOS_EC_LINE_DISABLE_HOST_CHECK",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_DISABLE_HOST_CHECK:nagios_command};%{DATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_ENABLE_HOST_CHECK",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_ENABLE_HOST_CHECK:nagios_command};%{DATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_PROCESS_SERVICE_CHECK_RESULT",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_PROCESS_SERVICE_CHECK_RESULT:nagios_command};%{DATA:nagios_hostname};%{DATA:nagios_service};%{DATA:nagios_state};%{GREEDYDATA:nagios_check_result})grok"},
            {"NAGIOS_EC_LINE_PROCESS_HOST_CHECK_RESULT",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_PROCESS_HOST_CHECK_RESULT:nagios_command};%{DATA:nagios_hostname};%{DATA:nagios_state};%{GREEDYDATA:nagios_check_result})grok"},
            {"NAGIOS_EC_LINE_DISABLE_HOST_SVC_NOTIFICATIONS",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_DISABLE_HOST_SVC_NOTIFICATIONS:nagios_command};%{GREEDYDATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_ENABLE_HOST_SVC_NOTIFICATIONS",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_ENABLE_HOST_SVC_NOTIFICATIONS:nagios_command};%{GREEDYDATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_DISABLE_HOST_NOTIFICATIONS",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_DISABLE_HOST_NOTIFICATIONS:nagios_command};%{GREEDYDATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_ENABLE_HOST_NOTIFICATIONS",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_ENABLE_HOST_NOTIFICATIONS:nagios_command};%{GREEDYDATA:nagios_hostname})grok"},
            {"NAGIOS_EC_LINE_DISABLE_SVC_NOTIFICATIONS",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_DISABLE_SVC_NOTIFICATIONS:nagios_command};%{DATA:nagios_hostname};%{GREEDYDATA:nagios_service})grok"},
            {"NAGIOS_EC_LINE_ENABLE_SVC_NOTIFICATIONS", R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_ENABLE_SVC_NOTIFICATIONS:nagios_command};%{DATA:nagios_hostname};%{GREEDYDATA:nagios_service})grok"},
            {"NAGIOS_EC_LINE_SCHEDULE_HOST_DOWNTIME",
             R"grok(%{NAGIOS_TYPE_EXTERNAL_COMMAND:nagios_type}: %{NAGIOS_EC_SCHEDULE_HOST_DOWNTIME:nagios_command};%{DATA:nagios_hostname};%{NUMBER:nagios_start_time};%{NUMBER:nagios_end_time};%{NUMBER:nagios_fixed};%{NUMBER:nagios_trigger_id};%{NUMBER:nagios_duration};%{DATA:author};%{DATA:comment})grok"},
            {"NAGIOSLOGLINE",
             R"grok(%{NAGIOSTIME} (?:%{NAGIOS_WARNING}|%{NAGIOS_CURRENT_SERVICE_STATE}|%{NAGIOS_CURRENT_HOST_STATE}|%{NAGIOS_SERVICE_NOTIFICATION}|%{NAGIOS_HOST_NOTIFICATION}|%{NAGIOS_SERVICE_ALERT}|%{NAGIOS_HOST_ALERT}|%{NAGIOS_SERVICE_FLAPPING_ALERT}|%{NAGIOS_HOST_FLAPPING_ALERT}|%{NAGIOS_SERVICE_DOWNTIME_ALERT}|%{NAGIOS_HOST_DOWNTIME_ALERT}|%{NAGIOS_PASSIVE_SERVICE_CHECK}|%{NAGIOS_PASSIVE_HOST_CHECK}|%{NAGIOS_SERVICE_EVENT_HANDLER}|%{NAGIOS_HOST_EVENT_HANDLER}|%{NAGIOS_TIMEPERIOD_TRANSITION}|%{NAGIOS_EC_LINE_DISABLE_SVC_CHECK}|%{NAGIOS_EC_LINE_ENABLE_SVC_CHECK}|%{NAGIOS_EC_LINE_DISABLE_HOST_CHECK}|%{NAGIOS_EC_LINE_ENABLE_HOST_CHECK}|%{NAGIOS_EC_LINE_PROCESS_HOST_CHECK_RESULT}|%{NAGIOS_EC_LINE_PROCESS_SERVICE_CHECK_RESULT}|%{NAGIOS_EC_LINE_SCHEDULE_HOST_DOWNTIME}|%{NAGIOS_EC_LINE_DISABLE_HOST_SVC_NOTIFICATIONS}|%{NAGIOS_EC_LINE_ENABLE_HOST_SVC_NOTIFICATIONS}|%{NAGIOS_EC_LINE_DISABLE_HOST_NOTIFICATIONS}|%{NAGIOS_EC_LINE_ENABLE_HOST_NOTIFICATIONS}|%{NAGIOS_EC_LINE_DISABLE_SVC_NOTIFICATIONS}|%{NAGIOS_EC_LINE_ENABLE_SVC_NOTIFICATIONS}))grok"},
            // ---- postgresql, rails, redis, ruby, squid ----
            {"POSTGRESQL",
             R"grok(%{DATESTAMP:timestamp} %{TZ} %{DATA:user_id} %{GREEDYDATA:connection_id} %{POSINT:pid})grok"},
            {"RUUID", R"grok([0-9A-Fa-f]{32})grok"},
            {"RCONTROLLER", R"grok((?<controller>[^#]+)#(?<action>\w+))grok"},
            {"RAILS3HEAD",
             R"grok(Started %{WORD:verb} "%{URIPATHPARAM:request}" for %{IPORHOST:clientip} at (?<timestamp>%{YEAR}-%{MONTHNUM}-%{MONTHDAY} %{HOUR}:%{MINUTE}:%{SECOND} %{ISO8601_TIMEZONE}))grok"},
            {"RPROCESSING", R"grok(\W*Processing by %{RCONTROLLER} as (?<format>\S+)(?:\W*Parameters: \{%{DATA:params}\}\W*)?)grok"},
            {"RAILS3PROFILE",
             R"grok((?:\(Views: %{NUMBER:viewms}ms \| ActiveRecord: %{NUMBER:activerecordms}ms|\(ActiveRecord: %{NUMBER:activerecordms}ms)?)grok"},
            {"RAILS3FOOT",
             R"grok(Completed %{NUMBER:response}%{DATA} in %{NUMBER:totalms}ms %{RAILS3PROFILE}%{GREEDYDATA})grok"},
            {"RAILS3",
             R"grok(%{RAILS3HEAD}(?:%{RPROCESSING})?(?<context>(?:%{DATA}\n)*)(?:%{RAILS3FOOT})?)grok"},
            {"REDISTIMESTAMP", R"grok(%{MONTHDAY} %{MONTH} %{TIME})grok"},
            {"REDISLOG",
             R"grok(\[%{POSINT:pid}\] %{REDISTIMESTAMP:timestamp} \*)grok"},
            {"REDISMONLOG",
             R"grok(%{NUMBER:timestamp} \[%{INT:database} %{IPORHOST:client}:%{INT:port}\] "%{WORD:command}"\s?%{GREEDYDATA:params})grok"},
            {"RUBY_LOGLEVEL", R"grok(DEBUG|FATAL|ERROR|WARN|INFO)grok"},
            {"RUBY_LOGGER",
             R"grok([DFEWI], \[%{TIMESTAMP_ISO8601:timestamp} #%{POSINT:pid}\] *%{RUBY_LOGLEVEL:loglevel} -- +%{DATA:progname}: %{GREEDYDATA:message})grok"},
            {"SQUID3",
             R"grok(%{NUMBER:timestamp}\s+%{NUMBER:duration}\s%{IP:client_address}\s%{WORD:cache_result}/%{NONNEGINT:status_code}\s%{NUMBER:bytes}\s%{WORD:request_method}\s%{NOTSPACE:url}\s(?:%{NOTSPACE:user}|-)\s%{WORD:hierarchy_code}/(?:%{IPORHOST:server}|-)\s%{NOTSPACE:content_type})grok"},
};

} // namespace

std::span<const PatternDefinition> builtin_pattern_definitions() {
  return kBuiltin;
}

const PatternLibrary &PatternLibrary::builtin() {
  static const PatternLibrary *const kLibrary = [] {
    auto *library = new PatternLibrary();
    for (const auto &d : kBuiltin)
      library->set(std::string(d.name), std::string(d.definition));
    return library;
  }();
  return *kLibrary;
}

PatternLibrary PatternLibrary::with(
    const std::vector<std::pair<std::string, std::string>> &custom) const {
  PatternLibrary copy = *this;
  for (const auto &[name, definition] : custom)
    copy.set(name, definition);
  return copy;
}

void PatternLibrary::set(std::string name, std::string definition) {
  definitions_[std::move(name)] = std::move(definition);
}

Status PatternLibrary::load_text(std::string_view text,
                                 std::string_view source) {
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view()
                                         : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#')
      continue;
    line.remove_prefix(start);
    size_t space = line.find_first_of(" \t");
    std::string_view name = line.substr(0, space);
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        return Status::error(std::string(source) + ":" +
                             std::to_string(line_number) +
                             ": bad pattern name \"" + std::string(name) +
                             "\" (letters, digits and _ only)");
      }
    }
    std::string_view definition;
    if (space != std::string_view::npos) {
      definition = line.substr(space);
      definition.remove_prefix(
          std::min(definition.find_first_not_of(" \t"), definition.size()));
    }
    if (definition.empty()) {
      return Status::error(std::string(source) + ":" +
                           std::to_string(line_number) + ": pattern " +
                           std::string(name) + " has no definition");
    }
    set(std::string(name), std::string(definition));
  }
  return Status::ok();
}

Status PatternLibrary::load_file(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto &entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec))
        files.push_back(entry.path());
    }
    if (ec)
      return Status::error("read pattern directory " + path + ": " +
                           ec.message());
    std::sort(files.begin(), files.end());
  } else {
    files.emplace_back(path);
  }
  for (const auto &file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return Status::error("read pattern file " + file.string() +
                           ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (Status s = load_text(text.str(), file.string()); !s)
      return s;
  }
  return Status::ok();
}

const std::string *PatternLibrary::find(std::string_view name) const {
  auto it = definitions_.find(name);
  return it == definitions_.end() ? nullptr : &it->second;
}

std::vector<std::string> PatternLibrary::names() const {
  std::vector<std::string> out;
  out.reserve(definitions_.size());
  for (const auto &[name, definition] : definitions_)
    out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace sluice::parsers
