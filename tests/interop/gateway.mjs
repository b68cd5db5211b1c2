// The real npm wechaty gateway for mulin's interop test: PuppetServer (wechaty-puppet-service, TLS on unless
// WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true) wrapping wechaty-puppet-mock with a small community.
//
//   node gateway.mjs PORT TOKEN
//
// stdin, one JSON object a line: {"from": contact id, "room": room id, "text": ...} posts in a group (with
// "mentions": [contact ids] it @-mentions them), without "room" privately to the bot; {"from", "room", "image":
// base64, "name": "x.jpg"} posts a picture.
// stdout, one JSON object a line: {"event": "ready", "port"}, {"event": "sent", "to", "text", "mentions"} for
// each text the bot sends, {"event": "sent_file", "to", "name", "size", "md5"} for each file or picture,
// {"event": "start"|"stop"|"ding"} for each puppet call a client makes, {"event": "image_fetched", "id"} for
// each picture a client reads. Everything else goes to stderr.
import crypto from 'crypto'
import readline from 'readline'
import { FileBox } from 'file-box'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const [port, token] = process.argv.slice(2)
const BOT = 'wxid_mulin'
const PEOPLE = { wxid_zhang: '张阿姨', wxid_li: '李大爷', wxid_wangfang: '王芳', wxid_lishuji: '李书记', [BOT]: '睦邻助手' }
const ROOMS = { '20001@chatroom': '奎星楼社区A1A2号居民群', '20009@chatroom': '别的小区业主群' }

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })
for (const [id, name] of Object.entries(PEOPLE)) {
  mocker.createContact({ id, name })
}
for (const [id, topic] of Object.entries(ROOMS)) {
  mocker.createRoom({ id, topic, memberIdList: Object.keys(PEOPLE), ownerId: 'wxid_lishuji' })
}

// a real gateway is logged in before any client connects; a client only opens the event stream
await puppet.start()
mocker.login(mocker.ContactMock.load(BOT))

// from here on, what a client asks the puppet to do, so the test can see a `stop` if one ever comes
for (const name of ['start', 'stop', 'ding']) {
  const original = puppet[name].bind(puppet)
  puppet[name] = (...args) => { say({ event: name }); return original(...args) }
}
const sendText = puppet.messageSendText.bind(puppet)
puppet.messageSendText = async (to, text, mentions) => {
  say({ event: 'sent', to, text, mentions: mentions || [] })
  return sendText(to, text, mentions)
}
const sendFile = puppet.messageSendFile.bind(puppet)
puppet.messageSendFile = async (to, fileBox) => {
  const data = await fileBox.toBuffer()
  say({ event: 'sent_file', to, name: fileBox.name, size: data.length,
    md5: crypto.createHash('md5').update(data).digest('hex') })
  return sendFile(to, FileBox.fromBuffer(data, fileBox.name))
}
// the mock answers every MessageImage with a placeholder QR code; a real puppet serves the picture itself,
// so here the picture a contact posted is served, as the mock already does for MessageFile
puppet.messageImage = async (id) => {
  say({ event: 'image_fetched', id })
  return puppet.messageFile(id)
}
const server = new PuppetServer({ endpoint: `127.0.0.1:${port}`, puppet, token })
await server.start()
say({ event: 'ready', port: Number(port) })

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (!line.trim()) return
  const { from, room, text, image, name, mentions } = JSON.parse(line)
  const talker = mocker.ContactMock.load(from)
  const content = image ? FileBox.fromBase64(image, name) : text
  const mentioned = (mentions || []).map((id) => mocker.ContactMock.load(id))
  talker.say(content, mentioned).to(room ? mocker.RoomMock.load(room) : mocker.ContactMock.load(BOT))
})
lines.on('close', async () => { await server.stop(); process.exit(0) })
process.on('SIGTERM', async () => { await server.stop(); process.exit(0) })
