// The corpus of the retrieval benchmark (bench/rag-retrieval.js), made on the spot: technical manuals of six
// ferries as PDFs (ten pages each), visitor pages of five ports as HTML (ten sections, with navigation, a
// news sidebar and a footer around the content), and five sets of board minutes as .docx (eight sections).
// Every document has more chunks than the five a question may retrieve, so finding the right document is
// not enough. Documents of one kind share their
// layout and most of their wording, so a question has to be matched on its particulars (a ship, a port, a
// month, a code), as in real document collections. Every value is drawn from a seeded generator, so the
// corpus, and the questions about it, are the same on every run. Each question names the file (and for a
// PDF the page) holding its answer, and a string that only the answer passage contains.
/* global require, module */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run with node */
const { writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const JSZip = require('jszip');
const { PDFDocument, StandardFonts } = require('pdf-lib');
const { rng, between, pick: pickFrom } = require('./lib/seeded');

const rnd = rng(20310917);
const int = (lo, hi) => between(rnd, lo, hi);
const pick = (xs) => pickFrom(rnd, xs);
/** Draws without repeating, so values that answer questions are unique in the corpus. */
function unique(draw) {
  const seen = new Set();
  return () => {
    for (;;) {
      const v = draw();
      if (!seen.has(String(v))) {
        seen.add(String(v));
        return v;
      }
    }
  };
}
const letters = 'ABCDEFGHJKLMNPRSTVWXZ';
const code = unique(() => `${pick(letters.split(''))}${pick(letters.split(''))}-${int(1000, 9899)}`);
const hours = unique(() => int(20, 90) * 10);
const miles = unique(() => int(3, 24));
const busNumber = unique(() => int(2, 99));
const time = unique(() => `${String(int(5, 9)).padStart(2, '0')}:${String(int(0, 11) * 5).padStart(2, '0')}`);

// ---------------------------------------------------------------- ferries (PDF)

const YARDS = ['Kessler', 'Aurvik', 'Brennmoor', 'Talwick', 'Osterfeld', 'Mardale'];
const ENGINES = ['Wartsila 8L20', 'MAN 6L23', 'Bergen C25', 'MaK 6M25', 'Volvo D16', 'Cummins QSK60'];
const OILS = ['SAE 40 mineral', 'SAE 30 synthetic', 'SAE 15W-40', 'SAE 40 low-ash', 'SAE 30 mineral', 'SAE 10W-30'];
const RADARS = ['Furuno FAR-2117', 'JRC JMA-5300', 'Raytheon NSC', 'Kelvin Hughes SharpEye', 'Simrad R2009', 'Sperry VisionMaster'];

const ferries = ['Merrow', 'Tansy', 'Halcyon', 'Brisling', 'Corvina', 'Ostrel'].map((name, i) => ({
  name,
  file: `${name.toLowerCase()}-manual.pdf`,
  year: 1998 + i * 3 + int(0, 2),
  yard: YARDS[i],
  length: int(48, 96),
  passengers: int(18, 60) * 10,
  engine: ENGINES[i],
  kw: int(9, 30) * 100,
  oilHours: hours(),
  oil: OILS[i],
  turboHours: hours() * 10,
  pumpCode: code(),
  sealService: pick(['second', 'third', 'fourth']),
  radar: RADARS[i],
  lightMiles: miles(),
  batteryMinutes: int(3, 12) * 10,
  rafts: int(2, 9),
  raftPersons: [16, 20, 25, 35, 50, 65][i],
  drillDays: [7, 10, 14, 21, 28, 30][i],
  fuelM3: int(12, 90),
  separatorHours: hours(),
  generator: pick(['Scania DI13', 'Caterpillar C18', 'Perkins 2806', 'Deutz TCD16']),
  generatorKw: int(15, 60) * 10,
  emergencySeconds: [15, 20, 25, 30, 40, 45][i],
  steeringMonths: int(2, 6),
  paint: pick(['Hempel Olympic', 'Jotun SeaQuantum', 'International Intersmooth', 'Chugoku Seaflo']),
  paintYear: 2024 + int(0, 6),
  diveMonths: [6, 9, 12, 18, 24, 36][i],
  crew: int(5, 14),
  watchHours: pick([4, 6, 8, 12]),
}));

function ferryPages(f) {
  return [
    {
      heading: 'General description',
      paragraphs: [
        `The ${f.name} is a double-ended passenger ferry built in ${f.year} by the ${f.yard} shipyard. She is ${f.length} metres long and is certified to carry ${f.passengers} passengers.`,
        'This manual describes the machinery and safety equipment on board. Keep it on the bridge, and record every maintenance task in the ship\u2019s technical log with the date and the name of the engineer.',
      ],
    },
    {
      heading: 'Main engine',
      paragraphs: [
        `Propulsion is provided by a ${f.engine} diesel engine rated at ${f.kw} kW, driving two azimuth thrusters.`,
        `The lubricating oil is changed every ${f.oilHours} running hours; use ${f.oil} oil only. The turbocharger is overhauled after ${f.turboHours} hours.`,
        'Before starting the engine, check the coolant level, the fuel day tank and the starting air pressure.',
      ],
    },
    {
      heading: 'Bilge and fire pumps',
      paragraphs: [
        'Two electric bilge pumps are installed in the engine room, one forward and one aft, and either can serve as an emergency fire pump.',
        `The pump impellers carry part number ${f.pumpCode}. The shaft seals are renewed at every ${f.sealService} service.`,
        'Test both pumps weekly and note the discharge pressure in the log.',
      ],
    },
    {
      heading: 'Navigation equipment',
      paragraphs: [
        `The bridge is fitted with a ${f.radar} radar, an electronic chart display and two VHF radios.`,
        `The masthead light can be seen from ${f.lightMiles} nautical miles away. If the main supply fails, backup batteries keep the navigation lights lit for ${f.batteryMinutes} minutes.`,
      ],
    },
    {
      heading: 'Life-saving appliances',
      paragraphs: [
        `The ferry carries ${f.rafts} inflatable liferafts, each rated for ${f.raftPersons} persons, and two rescue boats.`,
        `An abandon-ship drill is held every ${f.drillDays} days, and every crew member must take part.`,
        'Lifejackets for adults and children are stowed in the marked lockers on each deck.',
      ],
    },
    {
      heading: 'Fuel system',
      paragraphs: [
        `Fuel is stored in two double-bottom tanks holding ${f.fuelM3} cubic metres together, and pumped to the day tank by an electric transfer pump.`,
        `The fuel separator bowl is cleaned every ${f.separatorHours} hours. Drain water from the day tank daily.`,
      ],
    },
    {
      heading: 'Electrical system',
      paragraphs: [
        `Two ${f.generator} generating sets of ${f.generatorKw} kW each supply the ship's 400 V network.`,
        `The emergency generator starts automatically within ${f.emergencySeconds} seconds of a blackout and feeds the emergency switchboard.`,
      ],
    },
    {
      heading: 'Steering gear',
      paragraphs: [
        'The steering gear is tested from the bridge before every departure, including the changeover to the second pump.',
        `The hydraulic oil of the steering pumps is sampled every ${f.steeringMonths} months and sent to the laboratory.`,
      ],
    },
    {
      heading: 'Hull and paint',
      paragraphs: [
        `The hull was last coated with ${f.paint} antifouling in ${f.paintYear}.`,
        `Divers inspect the underwater hull, the thrusters and the sea chests every ${f.diveMonths} months.`,
      ],
    },
    {
      heading: 'Crew and watches',
      paragraphs: [
        `A crew of ${f.crew} runs the ship in watches of ${f.watchHours} hours.`,
        'The chief engineer signs the engine log at the end of every watch, and the master countersigns it weekly.',
      ],
    },
  ];
}

function ferryQuestions(f, i) {
  const alt = i % 2 === 1;
  const page = (n) => ({ file: f.file, page: n });
  return [
    { q: alt ? `Who built the ferry ${f.name}, and when?` : `Which shipyard built the ${f.name}?`, answer: `by the ${f.yard} shipyard`, ...page(1) },
    { q: alt ? `What is the oil change interval for the ${f.name}'s engine?` : `How often must the lubricating oil of the ${f.name} be changed?`, answer: `every ${f.oilHours} running hours`, ...page(2) },
    { q: alt ? `Which ferry uses impellers with part number ${f.pumpCode}?` : `What part number do the bilge pump impellers on the ${f.name} have?`, answer: f.pumpCode, ...page(3) },
    { q: alt ? `How far away is the masthead light of the ${f.name} visible?` : `From how many nautical miles can the ${f.name}'s masthead light be seen?`, answer: `${f.lightMiles} nautical miles`, ...page(4) },
    { q: alt ? `How often are abandon-ship drills held on the ${f.name}?` : `How many persons does each liferaft of the ${f.name} hold?`, answer: alt ? `every ${f.drillDays} days` : `${f.raftPersons} persons`, ...page(5) },
    // Harder: the answer's entity is not named (a lookup by value), or the words differ from the text's.
    { q: `Which ship has a ${f.radar} radar on its bridge?`, answer: f.radar, ...page(4) },
    { q: `How long do the ${f.name}'s navigation lights keep working on battery power?`, answer: `${f.batteryMinutes} minutes`, ...page(4) },
    { q: `How soon after a blackout does the emergency generator of the ${f.name} start?`, answer: `within ${f.emergencySeconds} seconds`, ...page(7) },
    alt
      ? { q: `How often do divers check the hull of the ${f.name}?`, answer: `every ${f.diveMonths} months`, ...page(9) }
      : { q: `How much fuel do the tanks of the ${f.name} hold?`, answer: `${f.fuelM3} cubic metres`, ...page(6) },
  ];
}

async function writeFerryPdf(dir, f) {
  const doc = await PDFDocument.create();
  doc.setTitle(`${f.name} technical manual`);
  const body = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  for (const p of ferryPages(f)) {
    const page = doc.addPage([595, 842]);
    let y = 780;
    page.drawText(p.heading, { x: 56, y, size: 18, font: bold });
    y -= 34;
    for (const para of p.paragraphs) {
      const text = para.replace(/\u2019/g, "'");
      let line = '';
      for (const word of text.split(' ')) {
        const next = line ? `${line} ${word}` : word;
        if (body.widthOfTextAtSize(next, 11) > 480 && line) {
          page.drawText(line, { x: 56, y, size: 11, font: body });
          y -= 14;
          line = word;
        } else line = next;
      }
      if (line) page.drawText(line, { x: 56, y, size: 11, font: body });
      y -= 26;
    }
  }
  writeFileSync(path.join(dir, f.file), await doc.save());
}

// ---------------------------------------------------------------- ports (HTML)

const ports = ['Vessmark', 'Ostmark', 'Brask', 'Skarvholm', 'Quillon'].map((name) => ({
  name,
  file: `${name.toLowerCase()}-port.html`,
  firstFerry: time(),
  pier: int(1, 12),
  adultFare: int(8, 40),
  childAge: int(4, 12),
  parking: int(4, 40) * 10,
  parkingOpens: time(),
  closedFrom: `${int(1, 14)} ${pick(['April', 'May', 'June'])}`,
  closedTo: `${int(15, 28)} ${pick(['July', 'August'])}`,
  luggage: int(2, 9) * 10,
  liftPier: int(1, 12),
  dogFare: int(5, 30),
  cafeOpens: time(),
  bus: busNumber(),
  busMinutes: pick([10, 15, 20, 30]),
}));

function portHtml(p) {
  const nav = ports.map((o) => `<a href="/${o.name.toLowerCase()}">${o.name}</a>`).join(' ');
  const other = ports[(ports.indexOf(p) + 1) % ports.length];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${p.name} port: visitor information</title>
<script>window.dataLayer = [{ page: "${p.name}", promo: "Night ferry from ${other.name} at 23:50" }];</script>
<style>body { font-family: sans-serif } nav a { margin: 0 4px }</style></head>
<body>
<header><img src="/logo.png" alt="Coastal Ports"><nav>${nav} <a href="/tickets">Buy tickets</a> <a href="/login">Log in</a></nav></header>
<main>
<h1>${p.name} port</h1>
<p>Welcome to the port of ${p.name}. This page lists ferry departures, fares, parking and current notices for visitors.</p>
<h2>Ferry departures</h2>
<p>The first ferry of the day leaves ${p.name} at ${p.firstFerry} from pier ${p.pier}. Later departures follow every hour until the evening.</p>
<h2>Fares</h2>
<p>A single crossing costs ${p.adultFare} krona for adults. Children under ${p.childAge} travel free, and bicycles are carried at no charge.</p>
<h2>Parking</h2>
<p>The car park next to the terminal has ${p.parking} spaces and opens at ${p.parkingOpens}. Overnight parking must be paid in advance.</p>
<h2>Notices</h2>
<p>The ${p.name} quay is closed for repairs from ${p.closedFrom} to ${p.closedTo}; ferries use the temporary landing stage meanwhile.</p>
<h2>Luggage</h2>
<p>Large luggage can be left at the kiosk for ${p.luggage} krona per day. Bags must not be left unattended on the quay.</p>
<h2>Accessibility</h2>
<p>A lift serves pier ${p.liftPier}, and wheelchairs can be borrowed at the ticket office free of charge.</p>
<h2>Pets</h2>
<p>Dogs travel on a lead for ${p.dogFare} krona; cats and other small animals must be carried in a box.</p>
<h2>Café</h2>
<p>The terminal café opens at ${p.cafeOpens} and serves hot meals until the last departure.</p>
<h2>Buses and taxis</h2>
<p>Bus ${p.bus} runs from the terminal to the town centre every ${p.busMinutes} minutes. Taxis wait at the east exit.</p>
</main>
<aside><h3>Latest news</h3><p>Night ferry from ${other.name} at 23:50 every Friday. Sign up for our newsletter!</p></aside>
<footer><p>Coastal Ports Authority, Harbour Street 1. Phone 555-0100. Cookie settings. Privacy policy.</p></footer>
<script>trackPageView("${p.name}");</script>
</body></html>`;
}

function portQuestions(p, i) {
  const alt = i % 2 === 1;
  const at = { file: p.file };
  return [
    { q: alt ? `What time does the first ferry depart from ${p.name}, and from which pier?` : `When does the first ferry leave ${p.name}?`, answer: `at ${p.firstFerry} from pier ${p.pier}`, ...at },
    { q: alt ? `What does an adult pay for a single crossing from ${p.name}?` : `How much is a single adult ticket at ${p.name} port?`, answer: `costs ${p.adultFare} krona`, ...at },
    { q: alt ? `How many parking spaces are there at the ${p.name} terminal?` : `How big is the car park at ${p.name}?`, answer: `${p.parking} spaces`, ...at },
    { q: alt ? `Until when is the ${p.name} quay closed for repairs?` : `Why is the quay at ${p.name} closed, and for how long?`, answer: `to ${p.closedTo}`, ...at },
    { q: `Do kids have to pay for the ferry in ${p.name}?`, answer: `Children under ${p.childAge} travel free`, ...at },
    { q: `Which port has its quay shut from ${p.closedFrom}?`, answer: `from ${p.closedFrom}`, ...at },
    { q: `What does it cost to bring a dog on the ferry at ${p.name}?`, answer: `Dogs travel on a lead for ${p.dogFare} krona`, ...at },
    { q: i % 2 ? `How do I get from the ${p.name} ferry terminal into town?` : `Which bus goes from the ${p.name} terminal to the town centre?`, answer: `Bus ${p.bus} runs`, ...at },
  ];
}

// ---------------------------------------------------------------- board minutes (DOCX)

const PROJECTS = ['the fish market roof', 'a new passenger gangway', 'dredging the inner basin', 'electric shore power', 'the ticket office refit'];
const PLACES = ['the Tollhouse', 'the pilot station', 'the harbour office', 'the ferry terminal', 'the town hall'];
const INCIDENTS = ['mooring line that parted', 'fall on a wet gangway', 'small fire in a galley', 'collision with a fender', 'fuel spill at pier 3'];

const meetings = ['January', 'March', 'May', 'September', 'November'].map((month, i) => ({
  month,
  file: `board-minutes-${month.toLowerCase()}.docx`,
  amount: `${int(1, 9)}.${int(1, 9)} million krona`,
  project: PROJECTS[i],
  incidents: [2, 4, 5, 7, 9][i],
  incident: INCIDENTS[i],
  nextDate: `${int(1, 28)} ${['February', 'April', 'June', 'October', 'December'][i]}`,
  place: PLACES[i],
  surplus: `${int(100, 900)} 000 krona`,
  hires: [1, 2, 3, 4, 6][i],
  letterFrom: ['the sailing club', 'the fishermen\u2019s union', 'the tourist office', 'the coast guard', 'the school board'][i],
  letterAsks: ['more moorings for visiting yachts', 'a second ice machine', 'longer opening hours in summer', 'a new radio mast', 'a harbour tour for pupils'][i],
  renamedPier: int(1, 12),
  renamedAfter: ['Ingrid Falk', 'Tomas Berg', 'Alma Lind', 'Erik Holm', 'Sara Vik'][i],
}));

function meetingBlocks(m) {
  return [
    { title: `Board minutes, ${m.month} 2031` },
    { heading: 'Attendance', level: 1 },
    { paragraph: 'Present were the chair, the harbour master, the treasurer and four members of the board. Apologies were received from one member.' },
    { heading: 'Decisions', level: 1 },
    { paragraph: `The board approved ${m.amount} for ${m.project}. Work is to be tendered before the end of the quarter.` },
    { paragraph: 'The minutes of the previous meeting were accepted without changes.' },
    { heading: 'Safety', level: 1 },
    { paragraph: `${m.incidents} incidents were reported since the last meeting; the most serious was a ${m.incident}. Nobody was hurt.` },
    { heading: 'Finance', level: 1 },
    { paragraph: `The treasurer reported a surplus of ${m.surplus} for the quarter. Harbour dues are unchanged.` },
    { heading: 'Staff', level: 1 },
    { paragraph: `${m.hires} new deckhands were hired. Training for the new staff is given by the harbour master.` },
    { heading: 'Correspondence', level: 1 },
    { paragraph: `A letter from ${m.letterFrom} asked for ${m.letterAsks}. The chair will reply.` },
    { heading: 'Any other business', level: 1 },
    { paragraph: `The board agreed to rename pier ${m.renamedPier} after ${m.renamedAfter}.` },
    { heading: 'Next meeting', level: 1 },
    { paragraph: `The next meeting is held on ${m.nextDate} at ${m.place}.` },
  ];
}

function meetingQuestions(m, i) {
  const alt = i % 2 === 1;
  const at = { file: m.file };
  return [
    { q: alt ? `What amount was approved for ${m.project}?` : `How much money did the board approve for ${m.project}?`, answer: m.amount, ...at },
    { q: alt ? `What was the most serious incident reported at the ${m.month} board meeting?` : `How many incidents were reported to the board in ${m.month}?`, answer: `the most serious was a ${m.incident}`, ...at },
    { q: alt ? `When and where does the board meet after its ${m.month} meeting?` : `Where is the board meeting after the ${m.month} one held?`, answer: `on ${m.nextDate} at ${m.place}`, ...at },
    { q: `At which board meeting was a ${m.incident} reported?`, answer: m.incident, ...at },
    { q: `Who attended the board meeting in ${m.month}?`, answer: 'Present were the chair', ...at },
    { q: `What surplus did the treasurer report in ${m.month}?`, answer: `surplus of ${m.surplus}`, ...at },
    { q: `Who wrote to the board, and what did they want, according to the ${m.month} minutes?`, answer: `asked for ${m.letterAsks}`, ...at },
  ];
}

const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

async function writeDocx(file, blocks) {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`,
  );
  zip.file('_rels/.rels', `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`);
  zip.file('word/_rels/document.xml.rels', `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`);
  const style = (id, name) => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`;
  zip.file('word/styles.xml', `${XML}<w:styles ${W}>${style('Title', 'Title')}${style('Heading1', 'heading 1')}${style('Heading2', 'heading 2')}</w:styles>`);
  const para = (text, st) => `<w:p>${st ? `<w:pPr><w:pStyle w:val="${st}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`;
  const body = blocks.map((b) => (b.title ? para(b.title, 'Title') : b.heading ? para(b.heading, `Heading${b.level}`) : para(b.paragraph))).join('');
  zip.file('word/document.xml', `${XML}<w:document ${W}><w:body>${body}</w:body></w:document>`);
  writeFileSync(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

/** Writes the corpus into `dir`; returns its files, their page count and the questions. */
async function writeCorpus(dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of ferries) await writeFerryPdf(dir, f);
  for (const p of ports) writeFileSync(path.join(dir, p.file), portHtml(p));
  for (const m of meetings) await writeDocx(path.join(dir, m.file), meetingBlocks(m));
  const questions = [...ferries.flatMap(ferryQuestions), ...ports.flatMap(portQuestions), ...meetings.flatMap(meetingQuestions)].map((q) => ({ ...q, file: path.join(dir, q.file) }));
  return {
    files: { pdf: ferries.length, html: ports.length, docx: meetings.length },
    pdfPages: ferries.length * ferryPages(ferries[0]).length,
    questions,
  };
}

module.exports = { writeCorpus };
