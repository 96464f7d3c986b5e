-- After 4/lua/ref-msys-timer-after.md and ref-msys-timer-every.md (M3: the
-- 3-reference-lua-ref-msys-timer-* pages): a one-shot and a repeating timer kept in
-- globals so they are not collected.
require("msys.core");
require 'msys.timer';

once = msys.timer.after(0.05, function ()
  print("once: the one-shot timer fired")
end, "once")

ticks = 0
ticker = msys.timer.every(0.02, function (timer)
  ticks = ticks + 1
  if ticks == 3 then timer:stop() end
end, "ticker")
