import json,random,re,sys
from collections import defaultdict
sys.path.insert(0,'.')
from classifier.corpus import row_key
DANGER = ("燃气,煤气,天然气,液化气,漏气,气味,着火,起火,失火,火灾,冒烟,浓烟,爆炸,坍塌,倒塌,塌陷,垮塌,塌方,沉降,下沉,地陷,"
  "裂缝,开裂,裂痕,墙体裂,危房,电线,裸露,漏电,触电,电击,高压线,变压器,困人,被困,困在,井盖,窨井,坠落,掉落,脱落,高空坠物,"
  "高空抛物,砸伤,砸到,砸中,淹,倒灌,内涝,水浸,进水,爆管,爆裂,跑水,岌岌可危,安全隐患,随时,危险,险情,生命安全,人身安全,"
  "生命财产,伤亡,死亡,身亡,受伤,摔伤,溺水,滑坡,泥石流,摇摇欲坠,倾斜,紧急,十万火急,救命,事故,隐患,消防通道,堵塞消防,"
  "有毒,中毒,化学品,危化品,爆燃,电梯故障,电梯事故,下坠,掉落,防护栏,护栏,深坑,悬空,脚手架,塔吊,冰冻,严寒,断水,断电").split(",")
lab=set()
for s in ('train','dev','test'):
    for l in open(f'tests/data/classifier/real/{s}.jsonl'):
        lab.add(json.loads(l)['source'])
rows=defaultdict(dict)
for l in open('/work/shared/corpus/appeals.jsonl'):
    r=json.loads(l); rows[row_key(r['source'])][r['source'].rsplit('.',1)[1]]=r
cands=[]
for k,parts in sorted(rows.items()):
    if any(p['source'] in lab for p in parts.values()): continue
    text=''.join(p['text'] for p in parts.values())
    if any(w in text for w in DANGER): cands.append(k)
print(len(rows), len(cands), file=sys.stderr)
rng=random.Random(20261206); rng.shuffle(cands)
pick=cands[:250]
n=0
with open('tests/data/classifier/real/labels/in/urgent_appeals.jsonl','w') as f:
    for k in pick:
        for part in ('留言主题','留言详情'):
            if part in rows[k]:
                n+=1; f.write(json.dumps({"n":n,"source":rows[k][part]['source'],"text":rows[k][part]['text']},ensure_ascii=False)+"\n")
print(n, file=sys.stderr)
