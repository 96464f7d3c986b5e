-- After 4/lua/ref-msys-core-io-wrapper-open.md: appending a CSV line to a log file from a
-- job in a pool the configuration defines (threadpool "CSV_LOGS" { concurrency = 4 }).
local module = { ["csv_log_path"] = "lines.csv" };
local FLAGS = msys.core.O_CREAT | msys.core.O_APPEND | msys.core.O_WRONLY;
local line = "one,two,three\n";

function module:rsrc_setup()
  msys.registerControl("log_line", function(cc)
    msys.runInPool('CSV_LOGS', function()
      local file = msys.core.io_wrapper_open(module["csv_log_path"], FLAGS, 0644);
      if not file then
        print("cannot open the csv log");
        return;
      end
      file:write(line, #line);
      file = nil;
    end, true);
  end)
  return true
end

msys.registerModule("csvlog", module)
