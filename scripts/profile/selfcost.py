# Self cost per function from a callgrind output file: scripts/profile/selfcost.py FILE
import sys, re, collections, subprocess
# Self cost per function (ignores fi/fe file switching), from a callgrind file with positions: line, events: Ir
names = {}; selfc = collections.Counter()
fn = None; incall = False
def name(tok):
    m = re.match(r'\((\d+)\)(?: (.*))?', tok)
    if not m: return tok
    if m.group(2): names[m.group(1)] = m.group(2)
    return names.get(m.group(1), tok)
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('fn='): fn = name(line[3:]); continue
    if line.startswith(('cfn=','cfi=','cfl=','cob=')):
        if line.startswith('cfn='): name(line[4:])
        continue
    if line.startswith('calls='): incall = True; continue
    if line and (line[0].isdigit() or line[0] in '+-*'):
        parts = line.split()
        if len(parts) >= 2:
            if incall: incall = False; continue
            selfc[fn] += int(parts[1])
        continue
total = sum(selfc.values()); div = int(sys.argv[2]) if len(sys.argv) > 2 else 1
out = []
for f, c in selfc.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 45):
    out.append(f"{c/div:10.0f} {100*c/total:5.1f}%  {f}")
dem = subprocess.run(['swift','demangle','--simplified'], input="\n".join(out), capture_output=True, text=True).stdout
print(f"total {total} per-unit {total/div:.0f}"); print(dem)
