/* kb web front end: hash routing, plain DOM, no dependencies. */
'use strict';
(function () {
  /** Where kb is served: "/" or, behind a reverse proxy, its prefix ("/kb/"); this script is at BASE + static/app.js. */
  const BASE = (() => {
    const src = document.currentScript && document.currentScript.src;
    return src ? new URL('../', src).pathname : '/';
  })();
  /** A server URL ("/api/me") under the prefix ("/kb/api/me"): no absolute URL escapes it. */
  function served(url) { return BASE + url.replace(/^\//, ''); }
  /** Every UI string: key -> [Russian, English]. */
  const I18N = {
    skip: ['Перейти к содержимому', 'Skip to content'], navLabel: ['Разделы', 'Sections'],
    navAsk: ['Спросить', 'Ask'], navClients: ['Клиенты', 'Clients'], navGaps: ['Пробелы', 'Gaps'],
    langBtn: ['EN', 'RU'], langTitle: ['Switch to English', 'Переключить на русский'],
    askTitle: ['Вопрос к базе знаний', 'Ask the knowledge base'],
    askIntro: ['Спросите про клиента, продукт или порядок работы — ответ придёт со ссылками на источники.',
      'Ask about a client, a product or a procedure — the answer comes with links to its sources.'],
    question: ['Вопрос', 'Question'], client: ['Клиент', 'Client'], allClients: ['Все клиенты', 'All clients'],
    questionPh: ['Например: какие условия оплаты у клиента?', 'E.g. what are the client’s payment terms?'],
    ask: ['Спросить', 'Ask'], searching: ['Ищу…', 'Searching…'], emptyQuestion: ['Введите вопрос.', 'Type a question.'],
    yourQuestion: ['Вопрос: {q}', 'Question: {q}'], understoodAs: ['Понял как: «{q}»', 'Understood as: “{q}”'], notInKb: ['Нет в базе знаний', 'Not in the knowledge base'],
    gapRecorded: ['Вопрос записан как пробел в базе; ответственный: {owner}',
      'The question was recorded as a knowledge-base gap; owner: {owner}'],
    gapRecordedNoOwner: ['Вопрос записан как пробел в базе.', 'The question was recorded as a knowledge-base gap.'],
    ownerLine: ['Ответственный: {owner}', 'Owner: {owner}'], confidence: ['уверенность {pct}%', 'confidence {pct}%'],
    vConfident: ['Уверенный ответ', 'Confident'], vCheck: ['Проверьте источник', 'Check the source'],
    vNone: ['Нет в базе знаний', 'Not in the knowledge base'],
    sources: ['Источники', 'Sources'], nearest: ['Ближайшие материалы', 'Closest material'],
    lines: ['строки {a}–{b}', 'lines {a}–{b}'], line: ['строка {a}', 'line {a}'],
    feedbackLabel: ['Ответ помог?', 'Did this help?'], comment: ['Комментарий (необязательно)', 'Comment (optional)'],
    helpful: ['Полезно', 'Helpful'], unhelpful: ['Не полезно', 'Not helpful'], thanks: ['Спасибо!', 'Thank you!'],
    clientsTitle: ['Клиенты', 'Clients'], docsCount: ['документов: {n}', 'documents: {n}'],
    noClients: ['Клиентов пока нет.', 'No clients yet.'], clientDocs: ['Документы', 'Documents'],
    askClient: ['Вопрос по клиенту', 'Ask about this client'], noDocs: ['Документов нет.', 'No documents.'],
    type: ['Тип', 'Type'], owner: ['Ответственный', 'Owner'], verified: ['Проверено', 'Verified'],
    contents: ['Содержание', 'Contents'], toClient: ['Страница клиента', 'Client page'],
    gapsTitle: ['Пробелы в базе знаний', 'Knowledge-base gaps'],
    gapsIntro: ['Вопросы, на которые база не ответила или ответ отметили бесполезным. Новые сверху.',
      'Questions the knowledge base could not answer or whose answer was marked not helpful. Newest first.'],
    noGaps: ['Пробелов нет.', 'No gaps.'], colQuestion: ['Вопрос', 'Question'], colClient: ['Клиент', 'Client'],
    colReason: ['Причина', 'Reason'], colCount: ['Сколько раз', 'Count'], colLastSeen: ['Последний раз', 'Last seen'],
    colOwner: ['Ответственный', 'Owner'],
    rRefused: ['Не нашлось ответа', 'No answer found'], rUnhelpful: ['Отмечен как бесполезный', 'Marked not helpful'],
    notFound: ['Страница не найдена', 'Page not found'], loading: ['Загрузка…', 'Loading…'],
    httpError: ['Ошибка сервера', 'Server error'],
    networkError: ['Сервер недоступен. Проверьте соединение и попробуйте ещё раз.',
      'The server is unreachable. Check the connection and try again.'],
    signInTitle: ['Вход', 'Sign in'], signIn: ['Войти', 'Sign in'], token: ['Токен доступа', 'Access token'],
    signInIntro: ['Вставьте токен, который выдал администратор (kb users add).',
      'Paste the token your administrator gave you (kb users add).'],
    navStale: ['Проверка', 'Review'], navCoverage: ['Покрытие', 'Coverage'],
    staleBadge: ['требует проверки', 'review due'],
    staleTitle: ['Документ не проверялся с {verified}; проверка была нужна до {due}', 'Not verified since {verified}; review was due by {due}'],
    staleNever: ['Документ ни разу не отмечали проверенным', 'The document was never marked verified'],
    briefTitle: ['Брифинг перед звонком', 'Briefing before a call'],
    briefIntro: ['Собрано из документов клиента на {today}; каждая строка со ссылкой на источник. Ведёт: {owner}.',
      'Built from the client’s documents as of {today}; every line links to its source. Owner: {owner}.'],
    briefMissing: ['Нет в базе знаний.', 'Not in the knowledge base.'],
    briefMissingHint: ['Нет в базе знаний: добавьте раздел «{heading}» в карточку клиента.',
      'Not in the knowledge base: add a “{heading}” section to the client card.'],
    briefMore: ['и ещё {n} — в документах', 'and {n} more in the documents'],
    pAbout: ['Кто они', 'Who they are'], pContacts: ['Контакты и роли', 'Contacts and roles'],
    pContract: ['Договор', 'Contract'], pPayment: ['Условия оплаты', 'Payment terms'],
    pProducts: ['Продукты и редакции', 'Products and editions'], pPromises: ['Что обещали', 'What we promised'],
    pIssues: ['Открытые вопросы и риски', 'Open issues and risks'],
    pChanges: ['Последние изменения документов', 'Recent changes to their documents'],
    pQuestions: ['О чём спрашивали коллеги', 'What colleagues asked most'],
    pReview: ['Карточка требует проверки', 'Card overdue for review'],
    pDue: ['Сроки: просрочено и ближайшие 30 дней', 'What is due: overdue and the next 30 days'],
    dueNone: ['Ничего не просрочено, в ближайшие 30 дней сроков нет.', 'Nothing overdue or due in the next 30 days.'],
    pFacts: ['Факты о продуктах клиента', 'Facts about their products'],
    pPreferences: ['Предпочтения', 'Preferences'], pHistory: ['Последние события', 'Recent history'],
    chReview: ['{path}: проверено {verified}, следующая проверка {due}', '{path}: verified {verified}, next review {due}'],
    chNever: ['{path}: ни разу не проверялся', '{path}: never verified'],
    chAdded: ['{date}: добавлено — {where}', '{date}: added — {where}'],
    chChanged: ['{date}: изменён раздел — {where}', '{date}: section changed — {where}'],
    chRemoved: ['{date}: удалено — {where}', '{date}: removed — {where}'],
    chVerified: ['{date}: отмечен проверенным — {where}', '{date}: marked verified — {where}'],
    askedTimes: ['×{n}', '×{n}'], openGap: ['ответа пока нет', 'no answer yet'],
    colTopic: ['Тема', 'Topic'], colAnswer: ['Ответ', 'Answer'], rUncertain: ['Неуверенный ответ', 'Unsure answer'],
    gapsOpen: ['Открытые', 'Open'], gapsAnswered: ['С ответом', 'Answered'],
    alsoAsked: ['Ещё так спрашивали: {list}', 'Also asked as: {list}'],
    answerLabel: ['Ответ для базы знаний', 'Answer for the knowledge base'],
    answerHelp: ['Ответ станет новым разделом FAQ с вашим именем и датой; следующий, кто спросит, получит его со ссылкой.',
      'The answer becomes a new FAQ section with your name and the date; the next person who asks gets it, cited.'],
    authorLabel: ['Кто отвечает', 'Answered by'], saveAnswer: ['Добавить в базу', 'Add to the knowledge base'],
    saving: ['Сохраняю…', 'Saving…'], emptyAnswer: ['Напишите ответ.', 'Write an answer.'],
    answeredIn: ['Ответ добавлен: ', 'Answer added: '],
    staleTitlePage: ['Документы на проверку', 'Documents due for review'],
    staleIntro: ['Документы, у которых подошёл срок проверки (verified + review_every), по ответственным.',
      'Documents whose review is due (verified + review_every), per owner.'],
    staleSoon: ['Показать и те, что подойдут в ближайшие 30 дней', 'Also show those due in the next 30 days'],
    staleNow: ['Только просроченные', 'Overdue only'],
    noStale: ['Все документы проверены вовремя.', 'Every document is within its review period.'],
    noOwner: ['Без ответственного', 'No owner'],
    overdue: ['просрочено на {n} дн. (срок {due})', 'overdue by {n} d (due {due})'],
    dueOn: ['проверить до {due}', 'review by {due}'], neverVerified: ['ни разу не проверялся', 'never verified'],
    markVerified: ['Отметить проверенным', 'Mark verified'],
    markedVerified: ['Отмечено проверенным {date}; следующая проверка {due}.', 'Marked verified on {date}; next review {due}.'],
    reviewDue: ['следующая проверка {due}', 'next review {due}'],
    coverageTitle: ['Покрытие клиентов', 'Client coverage'],
    coverageIntro: ['Сколько документов и ответственных у каждого клиента, сколько вопросов задали и на сколько база ответила.',
      'How many documents and owners cover each client, how many questions were asked and how many were answered.'],
    colDocs: ['Документов', 'Documents'], colOwners: ['Ответственные', 'Owners'], colAsked: ['Вопросов', 'Asked'],
    colAnswered: ['С ответом', 'Answered'], colRisk: ['Риск', 'Risk'],
    singleOwner: ['один владелец', 'single owner'], soleTitle: ['Клиенты, которые держатся на одном человеке', 'Clients that depend on one person'],
    soleLine: ['{owner}: {n}', '{owner}: {n}'],
    aboutClient: ['О клиенте:', 'About:'], clearClient: ['Спрашивать по всем клиентам', 'Ask across all clients'],
    clientCandidates: ['Вопрос подходит к нескольким клиентам — уточните, о ком он:', 'The question fits several clients — pick the one you mean:'],
    askAboutClient: ['Спросить только о клиенте {client}', 'Ask about {client} only'],
    navDue: ['Сроки', 'Due'],
    dueTitle: ['Сроки по клиентам', 'Client due dates'],
    dueIntro: ['Даты из документов клиентов на {today}: обещания, сроки уведомлений, открытые вопросы, истекающие документы. Просроченное — сверху.',
      'Dates read from the client documents as of {today}: promises, notice deadlines, open questions, expiring documents. Overdue first.'],
    dueOwner: ['Ответственный', 'Owner'], allOwners: ['Все ответственные', 'All owners'],
    dueWithin: ['Ближайшие, дней', 'Coming, days'], show: ['Показать', 'Show'],
    noDue: ['Сроков нет.', 'Nothing is due.'],
    sOverdue: ['просрочено', 'overdue'], sDue: ['в ближайшие {n} дней', 'within {n} days'], sLater: ['позже', 'later'],
    sDone: ['выполнено', 'done'], sPast: ['прошло', 'past'],
    daysAgo: ['{n} дн. назад', '{n} d ago'], daysIn: ['через {n} дн.', 'in {n} d'], daysToday: ['сегодня', 'today'],
    kPromise: ['обещание', 'promise'], kNotice: ['срок уведомления', 'notice deadline'],
    kOpenQuestion: ['открытый вопрос', 'open question'], kExpiry: ['истекает документ', 'document expiry'],
    kContractEnd: ['окончание договора', 'contract end'], kEvent: ['событие', 'event'],
    doneBy: ['Отмечено как сделанное: {text}', 'Marked done: {text}'],
    handoverLink: ['Передача дел', 'Handover'],
    handoverLinkTitle: ['Передача дел: {owner}', 'Handover: {owner}'],
    handoverTitle: ['Передача дел: {owner}', 'Handover: {owner}'],
    handoverIntro: ['На {today}: по каждому клиенту — сроки, открытые вопросы и обещания, вопросы без ответа, документы на проверку, кто подписывает и чего нет в карточке. Каждая строка со ссылкой на источник.',
      'As of {today}: for every client — what is due, open questions and promises, unanswered questions, documents due for review, who signs and what the card lacks. Every line links to its source.'],
    handoverTo: ['Принимает: {to}', 'Taking over: {to}'],
    handoverCount: ['Клиентов: {n}', 'Clients: {n}'],
    print: ['Печать', 'Print'], backToDue: ['← Все сроки', '← All due dates'],
    hSigners: ['Кто подписывает', 'Who signs'], hDue: ['Сроки', 'Due'],
    hOpen: ['Открытые вопросы и обещания', 'Open questions and promises'],
    hGaps: ['Вопросы без ответа', 'Unanswered questions'], hStale: ['Документы на проверку', 'Documents due for review'],
    hMissing: ['Чего нет в карточке', 'Missing from the card'], card: ['Карточка', 'Card'],
    noSigners: ['Не указано.', 'Not written.'],
    nothingHere: ['Ничего не требует внимания.', 'Nothing needs attention.'],
    noHandoverClients: ['Клиентов, карточки которых ведёт {owner}, нет.', '{owner} owns no client cards.'],
    mContacts: ['не записаны контакты', 'no contacts written'], mSigners: ['не указано, кто подписывает', 'nobody named who signs'],
    mContract: ['не записан договор', 'no contract written'], mPayment: ['не записаны условия оплаты', 'no payment terms written'],
    mUnder: ['раздел «{heading}»', 'section “{heading}”'],
    checklistTitle: ['Чек-лист для уходящего', 'Checklist for the person leaving'],
    checklistIntro: ['Что нужно записать до передачи дел. Каждый ответ сразу попадает в базу знаний, и пункт уходит из списка.',
      'What to write down before handing over. Each answer goes straight into the knowledge base and the item leaves the list.'],
    checklistLeft: ['Осталось пунктов: {n}', 'Items left: {n}'],
    checklistDone: ['Всё записано — чек-лист пуст.', 'Everything is written down — the checklist is empty.'],
    ciMissing: ['Нет в карточке', 'Missing'], ciGap: ['Вопрос без ответа', 'Unanswered'],
    writeSection: ['Дописать', 'Write it'], answerGap: ['Ответить', 'Answer'], cancel: ['Отмена', 'Cancel'],
    sectionHeading: ['Заголовок раздела', 'Section heading'], sectionText: ['Текст раздела', 'Section text'],
    sectionWhere: ['Раздел добавится в {path}.', 'The section is added to {path}.'],
    saveSection: ['Добавить в карточку', 'Add to the card'], emptySection: ['Напишите заголовок и текст раздела.', 'Write a heading and a text.'],
    sectionAdded: ['Раздел добавлен: ', 'Section added: '],
    reassignTitle: ['Передать клиентов', 'Hand the clients over'],
    reassignIntro: ['В документах клиентов меняется только строка owner: — новый ответственный увидит их на своих страницах.',
      'Only the owner: line of the client documents changes — the new owner sees them on their pages.'],
    reassignTo: ['Кому', 'To'], reassignClient: ['Какого клиента', 'Which client'],
    reassignAll: ['Всех клиентов', 'All clients'], reassignBtn: ['Передать', 'Hand over'],
    reassignEmpty: ['Укажите, кому передать клиентов.', 'Say who takes the clients over.'],
    reassigned: ['Передано: {to}. Изменено документов: {n}.', 'Handed over to {to}. Documents changed: {n}.'],
    reassignedTo: ['Страница передачи дел: {to}', 'Handover page of {to}'],
    // editing (#/edit/<path>, #/new)
    edit: ['Править', 'Edit'], editTitle: ['Правка: {title}', 'Editing: {title}'],
    editIntro: ['Слева — Markdown, справа — как документ увидят читатели. При сохранении текст проверяется так же, как в kb lint.',
      'Markdown on the left, the document as readers will see it on the right. Saving checks the text as kb lint does.'],
    markdown: ['Markdown', 'Markdown'], preview: ['Предпросмотр', 'Preview'], previewUpdating: ['обновляется…', 'updating…'],
    save: ['Сохранить', 'Save'], saved: ['Сохранено. Индекс обновлён — следующие ответы учтут правку.',
      'Saved. The index is updated — the next answers use the change.'],
    unchanged: ['Изменений нет.', 'Nothing changed.'], toDocument: ['К документу', 'To the document'],
    yourName: ['Ваше имя', 'Your name'], yourNameHint: ['для истории версий', 'for the version history'],
    unsaved: ['Есть несохранённые изменения.', 'There are unsaved changes.'],
    leaveUnsaved: ['Изменения не сохранены. Уйти со страницы?', 'The changes are not saved. Leave the page?'],
    lintErrors: ['Сохранение невозможно — исправьте ошибки:', 'Cannot save — fix these errors:'],
    lintWarnings: ['Предупреждения (сохранению не мешают):', 'Warnings (they do not block saving):'],
    atLine: ['строка {n}', 'line {n}'], inFile: ['{path}, строка {n}', '{path}, line {n}'],
    conflictTitle: ['Документ изменили, пока вы его правили', 'The document changed while you were editing it'],
    conflictIntro: ['Ваш текст не сохранён и не потерян. Сравните версии и выберите, какую оставить. Отличающиеся строки отмечены.',
      'Your text is not saved and not lost. Compare the versions and choose which to keep. Lines that differ are marked.'],
    yours: ['Ваша версия', 'Your version'], theirs: ['Сейчас в базе', 'Now in the knowledge base'],
    takeTheirs: ['Взять версию из базы', 'Take the saved version'],
    keepMine: ['Сохранить мою поверх', 'Overwrite with mine'],
    history: ['История', 'History'], historyIntro: ['Каждое сохранение — отдельная версия; любую можно посмотреть и восстановить.',
      'Every save is a version; any of them can be viewed and restored.'],
    noVersions: ['Версий пока нет: первая появится при сохранении.', 'No versions yet: the first appears on saving.'],
    current: ['текущая', 'current'], view: ['Посмотреть', 'View'], restore: ['Восстановить', 'Restore'],
    hide: ['Скрыть', 'Hide'], versionOf: ['Версия от {at}, {author}', 'Version of {at}, {author}'],
    restoreConfirm: ['Восстановить эту версию? Текущий текст останется в истории.',
      'Restore this version? The current text stays in the history.'],
    restoreDirty: ['В редакторе есть несохранённые изменения — они пропадут. Восстановить версию?',
      'The editor has unsaved changes — they will be lost. Restore the version?'],
    restored: ['Версия восстановлена и сохранена как новая.', 'The version was restored and saved as a new one.'],
    beforeKb: ['до правок в kb', 'before kb edits'],
    navNew: ['Новый документ', 'New document'], newTitle: ['Новый документ', 'New document'],
    newIntro: ['Документ создаётся по шаблону (как kb new): с заголовками и подсказками. Затем откроется редактор.',
      'The document is made from its template (as kb new does): headings and hints. The editor opens next.'],
    docType: ['Тип документа', 'Document type'], docTitle: ['Название', 'Title'],
    docClient: ['Клиент (id)', 'Client (id)'], docClientHint: ['для карточки клиента — её id; пусто — из названия',
      'for a client card its id; empty — made from the title'],
    docProducts: ['Продукты (id через запятую)', 'Products (ids, comma-separated)'], docOwner: ['Ответственный', 'Owner'],
    docOwnerHint: ['Имя Фамилия (e-mail)', 'Full name (e-mail)'],
    create: ['Создать', 'Create'], emptyTitle: ['Напишите название.', 'Write a title.'],
    tClient: ['Карточка клиента', 'Client card'], tProduct: ['Продукт', 'Product'], tPolicy: ['Правило, регламент', 'Policy'],
    tFaq: ['Вопросы и ответы (FAQ)', 'FAQ'], tPlaybook: ['Сценарий продаж', 'Playbook'],
    // importing (#/import)
    navImport: ['Импорт', 'Import'], importTitle: ['Импорт', 'Import'],
    importIntro: ['Загрузите документы, которые у команды уже есть, или выгрузку из CRM. Предпросмотр показывает результат и ничего не записывает.',
      'Upload the documents your team already has, or a CRM export. A preview shows the result and writes nothing.'],
    newImportHint: ['Уже есть готовый файл (Word, PDF, письмо)? ', 'Already have the file (Word, PDF, an e-mail)? '],
    newImportLink: ['Импортируйте его', 'Import it'],
    importNoRights: ['Импорт доступен только редакторам.', 'Only editors can import.'],
    importDocsTitle: ['Документы', 'Documents'],
    importDocsIntro: ['DOCX, PDF, HTML, текст, Markdown и письма .eml. Что за файл, сервер определяет по содержимому, а не по расширению. Каждый файл станет новым документом; заголовки, списки и таблицы сохранятся.',
      'DOCX, PDF, HTML, text, Markdown and .eml e-mails. The server tells what a file is by its content, not its extension. Each file becomes a new document; headings, lists and tables are kept.'],
    importFiles: ['Файлы', 'Files'], importType: ['Тип документа', 'Document type'],
    importTypeAuto: ['По умолчанию', 'Default'],
    importTypeHint: ['по умолчанию: с клиентом — FAQ, без клиента — правило', 'default: FAQ with a client, policy without'],
    importClient: ['Клиент', 'Client'], importNoClient: ['Без клиента', 'No client'],
    importOwner: ['Ответственный', 'Owner'], importOwnerHint: ['пусто — вы', 'empty — you'],
    importPreview: ['Предпросмотр', 'Preview'], importRun: ['Импортировать', 'Import'],
    importNoFiles: ['Выберите хотя бы один файл.', 'Choose at least one file.'],
    importUploading: ['Загружаю…', 'Uploading…'], importWaiting: ['в очереди', 'waiting'],
    sOk: ['импортирован', 'imported'], sDry: ['можно импортировать', 'can be imported'], sRefused: ['не принят', 'refused'],
    importWouldBe: ['Станет документом: ', 'Would become: '], importSavedAs: ['Сохранён как ', 'Saved as '],
    importIndexed: ['Индекс обновлён — вопросы уже находят этот документ.', 'The index is updated — questions find this document now.'],
    importFormat: ['Формат по содержимому: {format}', 'Format by content: {format}'],
    importTitleLine: ['Название: {title}', 'Title: {title}'],
    importOpen: ['Открыть документ', 'Open the document'], importEdit: ['Править', 'Edit'],
    importReason: ['Причина: ', 'Reason: '],
    importTooBig: ['Файл слишком большой ({size}). {msg}', 'The file is too large ({size}). {msg}'],
    importSendFailed: ['Не удалось отправить файл ({size}): сервер недоступен или файл больше допустимого размера.',
      'Could not send the file ({size}): the server is unreachable or the file is over the size limit.'],
    importSummary: ['Импортировано {ok} из {n}, не принято {bad}.', 'Imported {ok} of {n}, refused {bad}.'],
    importSummaryDry: ['Предпросмотр: можно импортировать {ok} из {n}, не принято {bad}. Ничего не записано.',
      'Preview: {ok} of {n} can be imported, {bad} refused. Nothing was written.'],
    mb: ['{n} МБ', '{n} MB'], kb: ['{n} КБ', '{n} KB'],
    crmTitle: ['Импорт из CRM', 'CRM import'],
    crmIntro: ['Выгрузка сделок из amoCRM или Битрикс24 (CSV или XLSX): новые компании получат карточку клиента, у существующих обновятся только разделы «Контакты из CRM» и «Сделки из CRM».',
      'A deals export from amoCRM or Bitrix24 (CSV or XLSX): new companies get a client card, existing cards only their «Контакты из CRM» and «Сделки из CRM» sections.'],
    crmFile: ['Файл выгрузки', 'Export file'], crmFormat: ['Формат', 'Format'],
    crmOwnerHint: ['для новых карточек, где в выгрузке нет «Ответственного»', 'for new cards whose rows name no «Ответственный»'],
    crmShow: ['Показать изменения', 'Show the changes'], crmRun: ['Импортировать', 'Import'],
    crmNoFile: ['Выберите файл выгрузки.', 'Choose an export file.'], crmWorking: ['Читаю выгрузку…', 'Reading the export…'],
    crmSummary: ['{source} ({kind}): строк {rows}; создано {created}, обновлено {updated}, без изменений {unchanged}, пропущено {skipped}.',
      '{source} ({kind}): {rows} rows; {created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped.'],
    crmSummaryDry: ['{source} ({kind}): строк {rows}; будет создано {created}, обновлено {updated}, без изменений {unchanged}, пропущено {skipped}. Ничего не записано.',
      '{source} ({kind}): {rows} rows; {created} to create, {updated} to update, {unchanged} unchanged, {skipped} skipped. Nothing was written.'],
    crmSkippedRows: ['Строк без компании: {n} — они пропущены.', 'Rows naming no company: {n} — left out.'],
    crmReindexed: ['Индекс обновлён.', 'The index is updated.'],
    crmNoFiles: ['В выгрузке нет компаний.', 'The export names no companies.'],
    crmCounts: ['контактов: {c}, сделок: {d}', 'contacts: {c}, deals: {d}'],
    crmDiff: ['Изменения', 'Changes'], crmOpenCard: ['Открыть карточку', 'Open the card'],
    aCreated: ['создана', 'created'], aCreatedDry: ['будет создана', 'to be created'],
    aUpdated: ['обновлена', 'updated'], aUpdatedDry: ['будет обновлена', 'to be updated'],
    aUnchanged: ['без изменений', 'unchanged'], aSkipped: ['пропущена', 'skipped'],
    fBitrix: ['Битрикс24', 'Bitrix24'],
  };

  const VERDICTS = { // verdict -> [label key, badge colour class]
    'confident': ['vConfident', 'ok'], 'check the source': ['vCheck', 'warn'], 'not in the knowledge base': ['vNone', 'none'],
  };
  const REASONS = { refused: 'rRefused', unhelpful: 'rUnhelpful', uncertain: 'rUncertain' };
  const PARTS = {
    review: 'pReview', due: 'pDue', about: 'pAbout', contacts: 'pContacts', contract: 'pContract', payment: 'pPayment', products: 'pProducts',
    promises: 'pPromises', issues: 'pIssues', changes: 'pChanges', questions: 'pQuestions', facts: 'pFacts',
    preferences: 'pPreferences', history: 'pHistory',
  };
  const CHANGES = { added: 'chAdded', changed: 'chChanged', removed: 'chRemoved', verified: 'chVerified' };
  const DUE_STATUS = { // status -> [label key, badge colour class]
    overdue: ['sOverdue', 'err'], due: ['sDue', 'warn'], later: ['sLater', 'none'], done: ['sDone', 'ok'], past: ['sPast', 'none'],
  };
  const DUE_KINDS = {
    'promise': 'kPromise', 'notice deadline': 'kNotice', 'open question': 'kOpenQuestion',
    'document expiry': 'kExpiry', 'contract end': 'kContractEnd', 'event': 'kEvent',
  };
  const MISSING = { contacts: 'mContacts', signers: 'mSigners', contract: 'mContract', payment: 'mPayment' };
  const DUE_WINDOW = 30; // the window /api/due uses by default and /api/handover always
  const LANG_KEY = 'kb.lang';

  const state = {
    lang: loadLang(),
    clients: null, // Promise<[client]>, cached
    owners: null, // Promise<[owner name]>, cached: the names the handover's "to" field offers
    answers: {}, // scope -> {question, client, chosen, result, sent}
    doc: null, // {path, data}: the last document, reused when only the anchor changes
    seq: 0, // bumped on every navigation; stale responses are dropped
    csrf: '', // sent with every form post of a signed-in session
    me: null, // /api/me: {name, role, open}; editors see the edit buttons
    editing: null, // the open editor: {dirty}, asked about before leaving the page
  };

  /* ---------- small helpers ---------- */

  function $(sel, root) { return (root || document).querySelector(sel); }

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat(Infinity)) {
      if (k !== null && k !== undefined && k !== false) n.append(k instanceof Node ? k : String(k));
    }
    return n;
  }

  function t(key, vars) {
    const pair = I18N[key];
    const s = pair ? pair[state.lang === 'en' ? 1 : 0] : key;
    return vars ? s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? '')) : s;
  }

  function loadLang() {
    try { return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ru'; } catch (e) { return 'ru'; }
  }

  function locale() { return state.lang === 'en' ? 'en-GB' : 'ru-RU'; }

  function fmtTime(sec) {
    return sec ? new Date(sec * 1000).toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' }) : '—';
  }

  function safeDecode(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  function encPath(p) { return p.split('/').map(encodeURIComponent).join('/'); }
  function decPath(p) { return p.split('/').map(safeDecode).join('/'); }

  function docHash(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const qs = q.toString();
    return '#/doc/' + encPath(path) + (qs ? '?' + qs : '');
  }

  function snippet(text, max = 220) {
    const s = String(text || '').replace(/^#+\s.*$/gm, '') // headings are already in the link text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/^>\s?/gm, '').replace(/[*`]+/g, '').replace(/[|\s]+/g, ' ').trim();
    return s.length > max ? s.slice(0, max).replace(/\s+\S*$/, '') + '…' : s;
  }

  /** An owner "Name (e-mail)" as the name, linked to write to them. */
  function ownerEl(owner) {
    const m = /^(.*?)\s*\(?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)\)?\s*$/.exec(owner || '');
    if (!m) return owner || '—';
    return el('a', { href: 'mailto:' + m[2], title: m[2], class: 'owner' }, m[1] || m[2]);
  }

  function setTitle(text) { document.title = text ? text + ' — kb' : 'kb'; }

  function spinner(text) {
    return el('p', { class: 'loading', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
  }

  function showError(msg) { const b = $('#error'); b.textContent = msg; b.hidden = false; }
  function clearError() { const b = $('#error'); b.textContent = ''; b.hidden = true; }

  function focusHeading(view) { $('h1', view)?.focus({ preventScroll: true }); }

  /* ---------- API ---------- */

  /** A JSON API call; ``body``: an object sent as JSON, or a Blob (a File) sent as raw bytes. */
  async function api(method, url, body) {
    const opts = { method, headers: { Accept: 'application/json' } };
    if (method !== 'GET' && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
    if (body instanceof Blob) { // a file upload: its bytes as they are (the server tells the format by content)
      opts.headers['Content-Type'] = 'application/octet-stream';
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try { res = await fetch(served(url), opts); } catch (e) {
      const err = new Error(t('networkError'));
      err.network = true; // no answer at all (an upload over the size limit can end so too)
      throw err;
    }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (res.status === 401 && url !== '/auth/login') {
      state.after = location.hash.startsWith('#/login') ? '#/' : location.hash || '#/';
      location.hash = '#/login';
    }
    if (!res.ok) {
      const err = new Error(errorMessage(data) || `${t('httpError')} (${res.status})`);
      err.status = res.status; // 409 and 422 carry more than a message: the editor reads err.data
      err.data = data;
      throw err;
    }
    return data;
  }

  function errorMessage(data) { // {"error": {...}} from kb, {"detail": ...} from FastAPI validation
    if (!data) return '';
    return data.error?.message || (typeof data.detail === 'string' ? data.detail : data.detail?.[0]?.msg) || '';
  }

  /** GET for a view: a spinner meanwhile, errors into #error, null if the user navigated away. */
  async function load(view, seq, url) {
    const spin = spinner(t('loading'));
    view.append(spin);
    try {
      const d = await api('GET', url);
      return seq === state.seq ? d : null;
    } catch (e) {
      if (seq === state.seq) showError(e.message);
      return null;
    } finally {
      spin.remove();
    }
  }

  function getClients() {
    if (!state.clients) {
      state.clients = api('GET', '/api/clients').then((d) => d.clients || [])
        .catch((e) => { state.clients = null; throw e; });
    }
    return state.clients;
  }

  /* ---------- ask box and answer card ---------- */

  function clientSelect(preset) {
    const sel = el('select', { id: 'client', name: 'client', 'data-testid': 'client' },
      el('option', { value: '' }, t('allClients')));
    getClients().then((list) => {
      for (const c of list) sel.append(el('option', { value: c.id }, c.title || c.id));
      if (preset) sel.value = preset;
    }).catch((e) => showError(e.message));
    return sel;
  }

  function field(label, control) {
    return el('div', { class: 'field' }, el('label', { for: control.id }, label), control);
  }

  /** scope keys the remembered answer; fixedClient scopes every question to one client. */
  function askBox(scope, fixedClient, preset) {
    const saved = state.answers[scope];
    const input = el('input', {
      id: 'question', type: 'text', name: 'question', autocomplete: 'off', autofocus: true,
      placeholder: t('questionPh'), maxlength: 2000, 'data-testid': 'question',
    });
    if (saved) input.value = saved.question;
    const select = fixedClient ? null : clientSelect(preset || (saved && saved.chosen && saved.client) || '');
    const button = el('button', { id: 'ask', type: 'submit', class: 'primary', 'data-testid': 'ask' }, t('ask'));
    const result = el('div', { class: 'result', 'aria-live': 'polite' });
    const form = el('form', { class: 'ask-form' + (select ? '' : ' scoped'), novalidate: true },
      field(t('question'), input), select && field(t('client'), select), el('div', { class: 'field' }, button));
    const ctx = { scope, input, select, button, result, client: fixedClient || '' };
    ctx.reask = (opts) => ask(ctx, opts);
    form.addEventListener('submit', (e) => { e.preventDefault(); ask(ctx); });
    if (saved) result.append(answerCard(saved, ctx.reask));
    return el('div', { class: 'askbox' }, form, result);
  }

  /** opts (a re-ask from the answer card): {question, client, resolve}; else the form's question and client. */
  async function ask(ctx, opts) {
    const again = opts || {};
    if (again.question !== undefined) ctx.input.value = again.question;
    const question = ctx.input.value.trim();
    if (!question) { showError(t('emptyQuestion')); ctx.input.focus(); return; }
    clearError();
    const selected = ctx.client || (ctx.select ? ctx.select.value : '');
    const client = selected || again.client || ''; // a client the user chose in the form wins
    const body = { question };
    if (client) body.client = client;
    if (again.resolve === false) body.resolve_client = false;
    const token = {};
    ctx.pending = token;
    ctx.button.disabled = true;
    ctx.result.replaceChildren(spinner(t('searching')));
    try {
      const result = await api('POST', '/api/ask', body);
      const entry = { question, client, chosen: Boolean(selected), result, sent: null };
      state.answers[ctx.scope] = entry; // kept even if the view was re-rendered meanwhile
      if (ctx.pending !== token || !ctx.result.isConnected) return;
      ctx.result.replaceChildren(answerCard(entry, ctx.reask));
    } catch (e) {
      if (ctx.pending !== token) return;
      ctx.result.replaceChildren();
      showError(e.message);
    } finally {
      if (ctx.pending === token) ctx.button.disabled = false;
    }
  }

  function verdictBadge(r) {
    const v = VERDICTS[r.verdict] || (r.answered ? VERDICTS['check the source'] : VERDICTS['not in the knowledge base']);
    return el('span', { id: 'verdict', class: 'badge ' + v[1], 'data-verdict': r.verdict, 'data-testid': 'verdict' }, t(v[0]));
  }

  function clientHref(id) { return '#/client/' + encodeURIComponent(id); }

  /** "About: <client>" — whom the answer was restricted to; a client kb resolved from the question can be cleared. */
  function aboutClient(entry, reask) {
    const c = entry.result.client;
    const marker = el('p', { id: 'about-client', class: 'about-client', 'data-testid': 'about-client' },
      t('aboutClient'), ' ', el('a', { href: clientHref(c.id) }, c.title || c.id));
    if (!entry.chosen && reask) {
      const label = t('clearClient');
      const clear = el('button', { type: 'button', class: 'clear-client', title: label, 'aria-label': label,
        'data-testid': 'clear-client' }, el('span', { 'aria-hidden': 'true' }, '×'));
      clear.addEventListener('click', () => reask({ question: entry.question, resolve: false }));
      marker.append(' ', clear);
    }
    return marker;
  }

  /** The clients a question names equally: each link asks it again about that client only. */
  function clientCandidates(entry, reask) {
    const line = el('p', { id: 'client-candidates', class: 'client-candidates', 'data-testid': 'client-candidates' },
      t('clientCandidates'), ' ');
    entry.result.client_candidates.forEach((c, i) => {
      const name = c.title || c.id;
      const a = el('a', { href: clientHref(c.id), 'data-client': c.id, title: t('askAboutClient', { client: name }) }, name);
      a.addEventListener('click', (e) => {
        if (!reask || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return; // a new tab: the page
        e.preventDefault();
        reask({ question: entry.question, client: c.id });
      });
      line.append(i ? ', ' : '', a);
    });
    return line;
  }

  function answerCard(entry, reask) {
    const r = entry.result;
    const pct = Math.round((Number(r.confidence) || 0) * 100);
    const answered = r.answered && r.answer;
    const card = el('article', { id: 'answer', class: 'card answer', 'data-testid': 'answer' },
      el('p', { class: 'asked muted' }, t('yourQuestion', { q: entry.question })),
      ...(r.question && r.question !== entry.question.trim()
        ? [el('p', { id: 'understood', class: 'asked muted' }, t('understoodAs', { q: r.question }))] : []),
      el('div', { class: 'answer-head' }, verdictBadge(r), el('span', { class: 'muted small' }, t('confidence', { pct }))),
      el('div', { id: 'answer-text', class: 'answer-text' + (answered ? '' : ' none'), 'data-testid': 'answer-text' },
        answered ? r.answer : t('notInKb')));
    if (!answered && r.note) card.append(el('p', { id: 'refusal-note', class: 'refusal-note', 'data-testid': 'refusal-note' }, r.note));
    if (r.client && r.client.id) card.append(aboutClient(entry, reask));
    if (r.client_candidates && r.client_candidates.length) card.append(clientCandidates(entry, reask));
    if (!answered && (r.owner || r.gap_id != null)) {
      card.append(el('p', { class: 'gap-note' }, r.owner ? t('gapRecorded', { owner: r.owner }) : t('gapRecordedNoOwner')));
    } else if (answered && r.owner) {
      card.append(el('p', { class: 'muted small' }, t('ownerLine', { owner: r.owner })));
    }
    if (r.sources && r.sources.length) card.append(sourcesList(r));
    card.append(feedbackBlock(entry));
    return card;
  }

  function sourceLabel(h) {
    const where = (h.heading_path && h.heading_path.length ? h.heading_path.join(' › ') : h.heading) || h.path;
    return `${where} — ${h.path}, ${t('lines', { a: h.start_line, b: h.end_line })}`;
  }

  /** The "review due" badge beside a cited document, or null when it is fresh. */
  function staleBadge(f) {
    if (!f || !f.stale) return null;
    const title = f.verified ? t('staleTitle', { verified: f.verified, due: f.review_due }) : t('staleNever');
    return el('span', { class: 'badge warn stale', title, 'data-testid': 'stale' }, t('staleBadge'));
  }

  function sourcesList(r) {
    const list = el('ol', { id: 'sources', class: 'sources', 'data-testid': 'sources' });
    for (const h of r.sources) {
      const href = docHash(h.path, { start: h.start_line, end: h.end_line, anchor: h.anchor });
      list.append(el('li', {},
        el('a', { class: 'source', href }, sourceLabel(h)), h.stale ? [' ', staleBadge(h)] : null,
        el('p', { class: 'snippet' }, snippet(h.text))));
    }
    return el('section', { class: 'sources-wrap' }, el('h2', { class: 'h3' }, t(r.answered ? 'sources' : 'nearest')), list);
  }

  function feedbackBlock(entry) {
    const comment = el('input', { id: 'feedback-comment', type: 'text', autocomplete: 'off', maxlength: 1000 });
    const yes = el('button', { id: 'helpful', type: 'button', 'data-testid': 'helpful' }, t('helpful'));
    const no = el('button', { id: 'unhelpful', type: 'button', 'data-testid': 'unhelpful' }, t('unhelpful'));
    const thanks = () => el('p', { id: 'feedback-thanks', role: 'status', 'data-testid': 'feedback-thanks' }, t('thanks'));
    const box = el('div', { class: 'feedback', role: 'group', 'aria-label': t('feedbackLabel') },
      el('p', { class: 'feedback-q' }, t('feedbackLabel')),
      field(t('comment'), comment),
      el('div', { class: 'buttons' }, yes, no));
    const lock = (on) => { yes.disabled = on; no.disabled = on; comment.disabled = on; };
    if (entry.sent !== null) {
      lock(true);
      (entry.sent ? yes : no).setAttribute('aria-pressed', 'true');
      box.append(thanks());
    }
    const send = async (helpful, btn) => {
      lock(true);
      const body = { question: entry.question, answer: entry.result.answer || '', helpful };
      if (entry.client) body.client = entry.client;
      if (entry.result.question_id) body.question_id = entry.result.question_id;
      if (comment.value.trim()) body.comment = comment.value.trim();
      try {
        await api('POST', '/api/feedback', body);
        entry.sent = helpful;
        btn.setAttribute('aria-pressed', 'true');
        box.append(thanks());
      } catch (e) {
        lock(false);
        showError(e.message);
      }
    };
    yes.addEventListener('click', () => send(true, yes));
    no.addEventListener('click', () => send(false, no));
    return box;
  }

  /* ---------- views ---------- */

  function viewAsk(view, params) {
    setTitle(t('askTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('askTitle')), el('p', { class: 'muted' }, t('askIntro')),
      askBox('all', '', params.get('client') || ''));
    $('#question', view).focus();
  }

  async function viewClients(view, seq) {
    setTitle(t('clientsTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('clientsTitle')));
    focusHeading(view);
    let list;
    try { list = await getClients(); } catch (e) { showError(e.message); return; }
    if (seq !== state.seq) return;
    if (!list.length) { view.append(el('p', {}, t('noClients'))); return; }
    view.append(el('ul', { class: 'linklist', id: 'clients' }, list.map((c) => el('li', {},
      el('a', { href: '#/client/' + encodeURIComponent(c.id) }, c.title || c.id),
      el('span', { class: 'muted small' }, t('docsCount', { n: c.documents }))))));
  }

  function metaLine(m) {
    const parts = [];
    if (m.type) parts.push(`${t('type')}: ${m.type}`);
    if (m.owner) parts.push(`${t('owner')}: ${m.owner}`);
    if (m.verified) parts.push(`${t('verified')}: ${m.verified}`);
    return parts.join(' · ');
  }

  async function viewClient(view, id, seq) {
    const d = await load(view, seq, '/api/clients/' + encodeURIComponent(id));
    if (!d) return;
    setTitle(d.title || id);
    const docs = d.documents || [];
    const list = docs.length
      ? el('ul', { class: 'linklist', id: 'client-docs' }, docs.map((doc) => el('li', {},
        el('a', { href: docHash(doc.path) }, doc.title || doc.path),
        el('span', { class: 'muted small' }, metaLine({ owner: doc.owner, verified: doc.verified })))))
      : el('p', {}, t('noDocs'));
    const briefSlot = el('div', { class: 'brief-slot' });
    view.append(el('h1', { tabindex: '-1' }, d.title || id), briefSlot,
      el('h2', {}, t('clientDocs')), list,
      el('h2', {}, t('askClient')), askBox('client:' + id, id));
    focusHeading(view);
    const b = await load(briefSlot, seq, '/api/clients/' + encodeURIComponent(id) + '/brief');
    if (b) briefSlot.replaceChildren(briefSection(b));
  }

  /* ---------- client briefing ---------- */

  function cite(src) {
    const href = docHash(src.path, { start: src.start_line, end: src.end_line, anchor: src.anchor });
    const where = [src.path, ...(src.heading_path || []).slice(1)].join(' › ');
    return el('a', { class: 'cite', href, title: `${where}, ${t('lines', { a: src.start_line, b: src.end_line })}` },
      `${src.path.split('/').pop()}:${src.start_line}`);
  }

  function briefLineText(line) {
    const src = line.source || {};
    if (line.kind === 'review') {
      const verified = (line.text.match(/verified (\d{4}-\d{2}-\d{2})/) || [])[1];
      return verified ? t('chReview', { path: src.path, verified, due: line.date }) : t('chNever', { path: src.path });
    }
    if (CHANGES[line.kind]) return t(CHANGES[line.kind], { date: line.date, where: line.label || src.path || '' });
    return line.text;
  }

  function briefLine(line) {
    const src = line.source;
    const status = DUE_STATUS[line.kind];
    return el('li', { class: 'brief-line' },
      status ? [el('span', { class: 'badge ' + status[1] }, t(status[0])), ' ',
        el('span', { class: 'muted small' }, [line.date, ' · ', DUE_KINDS[line.label] ? t(DUE_KINDS[line.label]) : line.label]),
        ' '] : null,
      briefLineText(line),
      line.kind === 'question' ? [' ', el('span', { class: 'muted small' }, t('askedTimes', { n: line.count }))] : null,
      src ? [' ', cite(src), src.stale ? [' ', staleBadge(src)] : null] : null,
      !src && line.kind === 'question' ? [' ', line.gap_id ? el('a', { class: 'badge none', href: '#/gaps' }, t('openGap'))
        : el('span', { class: 'badge none' }, t('openGap'))] : null);
  }

  function briefPart(p) {
    const sec = el('section', { class: 'brief-part' + (p.missing ? ' missing' : ''), 'data-part': p.key },
      el('h3', {}, PARTS[p.key] ? t(PARTS[p.key]) : p.title));
    if (p.missing) {
      const note = p.key === 'due' ? t('dueNone') : p.hint ? t('briefMissingHint', { heading: p.hint }) : t('briefMissing');
      sec.append(el('p', { class: 'missing-note' }, note));
      return sec;
    }
    const ul = el('ul', { class: 'brief-lines' });
    let label = '';
    for (const line of p.lines) {
      if (line.label && line.label !== label && !CHANGES[line.kind] && !DUE_STATUS[line.kind]) ul.append(el('li', { class: 'brief-label' }, line.label));
      label = line.label;
      ul.append(briefLine(line));
    }
    sec.append(ul);
    if (p.more) sec.append(el('p', { class: 'muted small' }, t('briefMore', { n: p.more })));
    return sec;
  }

  function briefSection(b) {
    return el('section', { id: 'brief', class: 'brief', 'data-testid': 'brief', 'aria-labelledby': 'brief-h' },
      el('h2', { id: 'brief-h' }, t('briefTitle')),
      el('p', { class: 'muted small' }, t('briefIntro', { today: b.today, owner: b.owner || '—' })),
      el('div', { class: 'brief-grid' }, (b.parts || []).map(briefPart)));
  }

  function toc(d, path) {
    const secs = (d.sections || []).filter((s) => s.anchor && s.level > 1);
    if (secs.length < 2) return null;
    return el('details', { class: 'toc' }, el('summary', {}, t('contents')),
      el('ul', {}, secs.map((s) => el('li', { class: 'lvl' + s.level },
        el('a', { href: docHash(path, { anchor: s.anchor }) }, s.heading)))));
  }

  async function viewDoc(view, path, params, seq) {
    const cached = state.doc && state.doc.path === path ? state.doc.data : null;
    const d = cached || await load(view, seq, '/api/documents/' + encPath(path));
    if (!d) return;
    state.doc = { path, data: d };
    const m = d.meta || {};
    const title = d.title || path;
    setTitle(title);
    const body = el('div', { id: 'doc', class: 'doc', 'data-testid': 'doc' });
    body.innerHTML = d.html || ''; // trusted: rendered by our own server
    hideDuplicateTitle(body, title);
    view.append(el('header', { class: 'doc-head' },
      el('h1', { tabindex: '-1' }, title),
      el('p', { class: 'muted doc-meta' }, metaLine(m), d.freshness?.stale ? [' ', staleBadge(d.freshness)] : null),
      el('p', { class: 'path small' }, path,
        m.client ? [' · ', el('a', { href: '#/client/' + encodeURIComponent(m.client) }, t('toClient'))] : null),
      el('div', { class: 'doc-actions' }, verifyBox(path, d), editLink(path))),
    toc(d, path), body);
    focusHeading(view);
    highlight(body, params);
  }

  /** "Mark verified": the owner confirms the document is still true; its front matter date is updated. */
  function verifyBox(path, d) {
    const f = d.freshness || {};
    const button = el('button', { id: 'mark-verified', type: 'button', 'data-testid': 'mark-verified' }, t('markVerified'));
    const status = el('span', { id: 'verify-status', class: 'small ' + (f.stale ? 'overdue' : 'muted'), role: 'status' },
      f.stale ? (f.review_due ? t('overdue', { n: f.overdue_days, due: f.review_due }) : t('neverVerified'))
        : f.review_due ? t('reviewDue', { due: f.review_due }) : '');
    button.addEventListener('click', async () => {
      button.disabled = true;
      clearError();
      try {
        const r = await api('POST', '/api/documents/' + encPath(path) + '/verify');
        d.freshness = r;
        d.meta = { ...(d.meta || {}), verified: r.verified };
        for (const badge of document.querySelectorAll('.doc-head .stale')) badge.remove();
        const meta = $('.doc-meta');
        if (meta) meta.textContent = metaLine(d.meta);
        status.textContent = t('markedVerified', { date: r.verified, due: r.review_due });
        status.className = 'small muted';
      } catch (e) {
        showError(e.message);
      } finally {
        button.disabled = false;
      }
    });
    return el('div', { class: 'verify' }, button, ' ', status);
  }

  function hideDuplicateTitle(body, title) {
    const first = body.firstElementChild;
    if (first && first.tagName === 'H1' && first.textContent.trim() === title.trim()) {
      first.classList.add('dup-title');
      first.setAttribute('aria-hidden', 'true');
    }
  }

  function highlight(root, params) {
    const start = parseInt(params.get('start'), 10);
    const end = parseInt(params.get('end'), 10) || start;
    let first = null;
    if (Number.isFinite(start)) {
      for (const node of root.querySelectorAll('[data-start-line]')) {
        const a = parseInt(node.dataset.startLine, 10);
        const b = parseInt(node.dataset.endLine, 10) || a;
        if (a <= end && b >= start) { node.classList.add('hl'); first = first || node; }
      }
    }
    const anchor = params.get('anchor');
    const target = first || (anchor ? root.querySelector(`[id="${CSS.escape(anchor)}"]`) : null);
    if (target) requestAnimationFrame(() => target.scrollIntoView({ block: 'start' }));
  }

  function gapRow(g, cols) {
    const client = g.client ? el('a', { href: '#/client/' + encodeURIComponent(g.client) }, g.client) : '—';
    const reason = REASONS[g.reason] ? t(REASONS[g.reason]) : (g.reason || '—');
    const others = (g.examples || []).filter((q) => q !== g.question);
    const question = [el('span', { class: 'gap-q' }, g.question),
      others.length ? el('span', { class: 'muted small also' }, t('alsoAsked', { list: others.join(' · ') })) : null];
    const topic = g.topic_path ? el('a', { href: docHash(g.topic_path) }, g.topic || g.topic_path) : (g.topic || '—');
    const cells = [question, client, topic, reason, g.count ?? '', fmtTime(g.last_seen), ownerEl(g.owner)];
    return el('tr', { class: 'gap', 'data-gap': g.id }, cells.map((c, i) => el('td', { 'data-label': t(cols[i]), class: 'c-' + i }, c)));
  }

  function answeredLink(r) {
    return el('p', { class: 'answered', role: 'status', 'data-testid': 'answered' }, t('answeredIn'),
      el('a', { href: docHash(r.answer_path || r.path, { anchor: r.answer_anchor || r.anchor, start: r.start_line, end: r.end_line }) },
        r.answer_path || r.path));
  }

  function answerForm(g, span) {
    const id = 'gap-answer-' + g.id;
    const text = el('textarea', { id, rows: 3, maxlength: 10000, 'data-testid': 'gap-answer' });
    const author = el('input', { id: 'gap-author-' + g.id, type: 'text', autocomplete: 'name', maxlength: 200,
      placeholder: g.owner || '' });
    const button = el('button', { type: 'submit', class: 'primary', 'data-testid': 'save-answer' }, t('saveAnswer'));
    const form = el('form', { class: 'gap-answer', novalidate: true },
      el('label', { for: id }, t('answerLabel')), text,
      el('div', { class: 'answer-actions' }, field(t('authorLabel'), author), button));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { showError(t('emptyAnswer')); text.focus(); return; }
      clearError();
      button.disabled = true;
      button.textContent = t('saving');
      try {
        const body = { answer: text.value };
        if (author.value.trim()) body.author = author.value.trim();
        const r = await api('POST', '/api/gaps/' + g.id + '/answer', body);
        form.replaceWith(answeredLink(r));
      } catch (err) {
        showError(err.message);
        button.disabled = false;
        button.textContent = t('saveAnswer');
      }
    });
    return el('tr', { class: 'answer-row' }, el('td', { colspan: span, class: 'c-answer' }, form));
  }

  async function viewGaps(view, seq, params) {
    const status = params.get('status') === 'answered' ? 'answered' : 'open';
    setTitle(t('gapsTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('gapsTitle')), el('p', { class: 'muted' }, t('gapsIntro')),
      status === 'open' ? el('p', { class: 'muted small' }, t('answerHelp')) : null,
      el('p', { class: 'tabs' },
        el('a', { href: '#/gaps', 'aria-current': status === 'open' ? 'page' : null }, t('gapsOpen')), ' · ',
        el('a', { href: '#/gaps?status=answered', 'aria-current': status === 'answered' ? 'page' : null }, t('gapsAnswered'))));
    focusHeading(view);
    const d = await load(view, seq, '/api/gaps?status=' + status);
    if (!d) return;
    const gaps = (d.gaps || []).slice().sort((a, b) => (b.last_seen || 0) - (a.last_seen || 0));
    if (!gaps.length) { view.append(el('p', {}, t('noGaps'))); return; }
    const cols = ['colQuestion', 'colClient', 'colTopic', 'colReason', 'colCount', 'colLastSeen', 'colOwner'];
    const rows = [];
    for (const g of gaps) {
      rows.push(gapRow(g, cols));
      rows.push(g.status === 'answered'
        ? el('tr', { class: 'answer-row' }, el('td', { colspan: cols.length, class: 'c-answer' }, answeredLink(g)))
        : answerForm(g, cols.length));
    }
    view.append(el('table', { id: 'gaps', class: 'gaps', 'data-testid': 'gaps' },
      el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, t(c))))),
      el('tbody', {}, rows)));
  }

  /* ---------- review and coverage ---------- */

  async function viewStale(view, seq, params) {
    const within = params.get('within') === '30' ? 30 : 0;
    setTitle(t('staleTitlePage'));
    view.append(el('h1', { tabindex: '-1' }, t('staleTitlePage')), el('p', { class: 'muted' }, t('staleIntro')),
      el('p', {}, el('a', { href: within ? '#/stale' : '#/stale?within=30' }, t(within ? 'staleNow' : 'staleSoon'))));
    focusHeading(view);
    const d = await load(view, seq, '/api/stale?within=' + within);
    if (!d) return;
    const owners = d.owners || [];
    if (!owners.length) { view.append(el('p', {}, t('noStale'))); return; }
    const wrap = el('div', { id: 'stale', 'data-testid': 'stale-report' });
    for (const o of owners) {
      wrap.append(el('h2', {}, o.owner ? ownerEl(o.owner) : t('noOwner')), el('ul', { class: 'linklist' }, o.documents.map((doc) => el('li', {},
        el('a', { href: docHash(doc.path) }, doc.title || doc.path),
        el('span', { class: 'small ' + (doc.stale ? 'overdue' : 'muted') },
          doc.stale ? (doc.review_due ? t('overdue', { n: doc.overdue_days, due: doc.review_due }) : t('neverVerified'))
            : t('dueOn', { due: doc.review_due }))))));
    }
    view.append(wrap);
  }

  async function viewCoverage(view, seq) {
    setTitle(t('coverageTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('coverageTitle')), el('p', { class: 'muted' }, t('coverageIntro')));
    focusHeading(view);
    const d = await load(view, seq, '/api/coverage');
    if (!d) return;
    const cols = ['colClient', 'colDocs', 'colOwners', 'colAsked', 'colAnswered', 'colRisk'];
    const rows = (d.clients || []).map((c) => el('tr', { 'data-client': c.client }, [
      el('a', { href: '#/client/' + encodeURIComponent(c.client) }, c.title || c.client),
      c.documents, (c.owners || []).length ? c.owners.map((o, i) => [i ? ', ' : '', ownerEl(o)]) : '—', c.asked, c.answered,
      c.single_owner ? el('span', { class: 'badge warn' }, t('singleOwner')) : '',
    ].map((v, i) => el('td', { 'data-label': t(cols[i]), class: 'c-' + i }, v))));
    view.append(el('table', { id: 'coverage', class: 'gaps coverage', 'data-testid': 'coverage' },
      el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, t(c))))), el('tbody', {}, rows)));
    const sole = d.single_owner || [];
    if (sole.length) {
      view.append(el('h2', {}, t('soleTitle')), el('ul', { class: 'linklist', id: 'single-owner' }, sole.map((o) => el('li', {},
        el('span', {}, o.owner ? ownerEl(o.owner) : t('noOwner')),
        el('span', { class: 'muted small' }, o.clients.join(', '))))));
    }
  }

  /* ---------- due dates ---------- */

  function handoverHref(owner, to) {
    return '#/handover/' + encodeURIComponent(owner) + (to ? '?to=' + encodeURIComponent(to) : '');
  }

  function fmtDate(iso) {
    const d = new Date(iso + 'T00:00:00Z');
    if (!iso || Number.isNaN(d.getTime())) return iso || '—';
    return d.toLocaleDateString(locale(), { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  }

  function relDays(days) {
    const n = Number(days) || 0;
    return n < 0 ? t('daysAgo', { n: -n }) : n > 0 ? t('daysIn', { n }) : t('daysToday');
  }

  function dueBadge(status, within) {
    const s = DUE_STATUS[status] || [null, 'none'];
    return el('span', { class: 'badge due-status ' + s[1], 'data-status': status, 'data-testid': 'due-status' },
      s[0] ? t(s[0], { n: within }) : status);
  }

  function kindLabel(kind) { return DUE_KINDS[kind] ? t(DUE_KINDS[kind]) : kind; }

  /** A source as "clients/x.md › Heading › Sub, lines a–b", linked to the document with those lines highlighted. */
  function sourceLink(src, testid) {
    const href = docHash(src.path, { start: src.start_line, end: src.end_line, anchor: src.anchor });
    const where = [src.path, ...(src.heading_path || []).slice(1)].join(' › ');
    const lines = src.end_line && src.end_line !== src.start_line ? t('lines', { a: src.start_line, b: src.end_line })
      : t('line', { a: src.start_line });
    return el('a', { class: 'source-link', href, title: `${where}, ${lines}`, 'data-testid': testid || 'source' },
      `${where}, ${lines}`);
  }

  /** One dated item: status, date and how far, kind, the sentence, its source and (on the Due page) its owner. */
  function dueItem(it, within, showOwner) {
    const src = it.source || {};
    return el('li', { class: 'due-item s-' + it.status, 'data-status': it.status, 'data-testid': 'due-item' },
      el('div', { class: 'due-head' },
        dueBadge(it.status, within),
        el('time', { class: 'due-date', datetime: it.date }, fmtDate(it.date)),
        el('span', { class: 'due-rel' + (it.status === 'overdue' ? ' overdue' : ' muted') }, relDays(it.days)),
        el('span', { class: 'chip due-kind', 'data-kind': it.kind }, kindLabel(it.kind))),
      el('p', { class: 'due-text' }, it.text),
      it.done && it.done !== it.text ? el('p', { class: 'muted small due-done' }, t('doneBy', { text: it.done })) : null,
      el('p', { class: 'due-meta small' }, src.path ? sourceLink(src, 'due-source') : null,
        showOwner && it.owner ? [el('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '),
          el('span', { class: 'muted' }, t('ownerLine', { owner: '' })), ownerEl(it.owner)] : null));
  }

  function dueParams(within, owner) {
    const q = new URLSearchParams();
    if (within !== DUE_WINDOW) q.set('within', within);
    if (owner) q.set('owner', owner);
    const s = q.toString();
    return '#/due' + (s ? '?' + s : '');
  }

  async function viewDue(view, seq, params) {
    const raw = parseInt(params.get('within'), 10);
    const within = Number.isFinite(raw) ? Math.min(Math.max(raw, 0), 3650) : DUE_WINDOW;
    const only = params.get('owner') || '';
    setTitle(t('dueTitle'));
    const intro = el('p', { class: 'muted' }, t('dueIntro', { today: '…' }));
    const ownerSel = el('select', { id: 'due-owner', name: 'owner', 'data-testid': 'due-owner' },
      el('option', { value: '' }, t('allOwners')));
    const days = el('input', { id: 'due-within', name: 'within', type: 'number', min: 0, max: 3650, step: 1,
      inputmode: 'numeric', value: within, 'data-testid': 'due-within' });
    const form = el('form', { class: 'due-filter', novalidate: true },
      field(t('dueOwner'), ownerSel), field(t('dueWithin'), days),
      el('div', { class: 'field' }, el('button', { type: 'submit' }, t('show'))));
    const go = () => {
      const n = parseInt(days.value, 10);
      location.hash = dueParams(Number.isFinite(n) ? Math.min(Math.max(n, 0), 3650) : DUE_WINDOW, ownerSel.value);
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
    ownerSel.addEventListener('change', go);
    view.append(el('h1', { tabindex: '-1' }, t('dueTitle')), intro, form);
    focusHeading(view);
    const d = await load(view, seq, '/api/due?within=' + within);
    if (!d) return;
    intro.textContent = t('dueIntro', { today: fmtDate(d.today) });
    const owners = d.owners || [];
    for (const o of owners) ownerSel.append(el('option', { value: o.owner }, o.owner || t('noOwner')));
    if (only && !owners.some((o) => o.owner === only)) ownerSel.append(el('option', { value: only }, only));
    ownerSel.value = only;
    const shown = only ? owners.filter((o) => o.owner === only) : owners;
    if (!shown.length) { view.append(el('p', { 'data-testid': 'no-due' }, t('noDue'))); return; }
    const wrap = el('div', { id: 'due', 'data-testid': 'due' });
    for (const o of shown) {
      const head = el('div', { class: 'owner-head' },
        el('h2', {}, o.owner ? ownerEl(o.owner) : t('noOwner')),
        o.owner ? el('a', { class: 'handover-link', href: handoverHref(o.owner), 'data-testid': 'handover-link',
          title: t('handoverLinkTitle', { owner: o.owner }) }, t('handoverLink')) : null);
      const clients = (o.clients || []).map((c) => el('section', { class: 'due-client', 'data-client': c.client },
        el('h3', {}, el('a', { href: clientHref(c.client) }, c.title || c.client)),
        el('ul', { class: 'due-list' }, (c.items || []).map((it) => dueItem(it, d.within ?? within, true)))));
      wrap.append(el('section', { class: 'due-owner', 'data-owner': o.owner }, head, clients));
    }
    view.append(wrap);
  }

  /* ---------- handover ---------- */

  function missingText(key, fallback) { return MISSING[key] ? t(MISSING[key]) : fallback; }

  function hoPart(title, key, items, render) {
    if (!items || !items.length) return null;
    return el('section', { class: 'ho-part', 'data-part': key },
      el('h3', {}, title), el('ul', { class: key === 'due' ? 'due-list' : 'ho-lines' }, items.map(render)));
  }

  function handoverClient(c) {
    const parts = [
      hoPart(t('hDue'), 'due', c.due, (it) => dueItem(it, DUE_WINDOW, false)),
      hoPart(t('hOpen'), 'open', c.open, (o) => el('li', { class: 'ho-line' },
        el('span', { class: 'chip', 'data-kind': o.kind }, kindLabel(o.kind)), ' ', o.text, ' ', cite(o.source))),
      hoPart(t('hGaps'), 'gaps', c.gaps, (g) => el('li', { class: 'ho-line', 'data-gap': g.id }, g.question, ' ',
        el('span', { class: 'muted small' }, t('askedTimes', { n: g.count })))),
      hoPart(t('hStale'), 'stale', c.stale, (s) => el('li', { class: 'ho-line' },
        el('a', { href: docHash(s.path) }, s.title || s.path), ' ',
        el('span', { class: 'small overdue' },
          s.review_due ? t('overdue', { n: s.overdue_days, due: s.review_due }) : t('neverVerified')))),
      hoPart(t('hMissing'), 'missing', c.missing, (m) => el('li', { class: 'ho-line missing-note', 'data-missing': m.key },
        missingText(m.key, m.text), m.heading ? el('span', { class: 'muted small' }, ' — ', t('mUnder', { heading: m.heading })) : null)),
    ].filter(Boolean);
    const signers = el('section', { class: 'ho-part ho-signers', 'data-part': 'signers' }, el('h3', {}, t('hSigners')),
      (c.signers || []).length
        ? el('ul', { class: 'ho-lines' }, c.signers.map((s) => el('li', { class: 'ho-line' }, s.text, ' ', cite(s.source))))
        : el('p', { class: 'missing-note' }, t('noSigners')));
    return el('section', { class: 'ho-client', 'data-client': c.client, 'data-testid': 'handover-client' },
      el('header', { class: 'ho-client-head' },
        el('h2', {}, el('a', { href: clientHref(c.client) }, c.title || c.client)),
        c.card ? el('a', { class: 'path small', href: docHash(c.card) }, c.card) : null),
      signers, parts, parts.length ? null : el('p', { class: 'muted' }, t('nothingHere')));
  }

  /** The inline form of a checklist item: a new card section for a missing part, an answer for a gap. */
  function checklistForm(item, i, ctx, done) {
    const a = item.action || {};
    const isGap = a.type === 'gap';
    const text = el('textarea', { id: 'ci-text-' + i, rows: 4, maxlength: isGap ? 10000 : 20000, 'data-testid': 'checklist-text' });
    const heading = isGap ? null : el('input', { id: 'ci-heading-' + i, type: 'text', maxlength: 200, value: a.heading || '',
      'data-testid': 'checklist-heading' });
    const author = isGap ? el('input', { id: 'ci-author-' + i, type: 'text', autocomplete: 'name', maxlength: 200,
      placeholder: ctx.owner }) : null;
    const save = el('button', { type: 'submit', class: 'primary', 'data-testid': 'checklist-save' },
      t(isGap ? 'saveAnswer' : 'saveSection'));
    const cancel = el('button', { type: 'button', class: 'cancel' }, t('cancel'));
    const form = el('form', { class: 'checklist-form gap-answer', novalidate: true, 'data-testid': 'checklist-form' },
      heading ? field(t('sectionHeading'), heading) : null,
      el('label', { for: text.id }, t(isGap ? 'answerLabel' : 'sectionText')), text,
      el('p', { class: 'muted small' }, isGap ? t('answerHelp') : t('sectionWhere', { path: a.path || '' })),
      el('div', { class: 'answer-actions' }, author ? field(t('authorLabel'), author) : null, save, cancel));
    cancel.addEventListener('click', () => done(false));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim() || (heading && !heading.value.trim())) {
        showError(t(isGap ? 'emptyAnswer' : 'emptySection'));
        (heading && !heading.value.trim() ? heading : text).focus();
        return;
      }
      clearError();
      save.disabled = true;
      cancel.disabled = true;
      save.textContent = t('saving');
      try {
        let r;
        if (isGap) {
          const body = { answer: text.value };
          if (author.value.trim()) body.author = author.value.trim();
          r = await api('POST', '/api/gaps/' + encodeURIComponent(a.gap_id) + '/answer', body);
          ctx.flash = answeredLink(r);
        } else {
          r = await api('POST', '/api/documents/' + encPath(a.path) + '/sections',
            { heading: heading.value.trim(), text: text.value });
          ctx.flash = el('p', { class: 'answered', role: 'status', 'data-testid': 'answered' }, t('sectionAdded'),
            el('a', { href: docHash(r.path, { start: r.start_line, end: r.end_line, anchor: r.anchor }) },
              `${r.path} › ${r.heading}`));
        }
        state.clients = null;
        await reloadHandover(ctx);
      } catch (err) {
        showError(err.message);
        save.disabled = false;
        cancel.disabled = false;
        save.textContent = t(isGap ? 'saveAnswer' : 'saveSection');
      }
    });
    return form;
  }

  function checklistItem(item, i, ctx) {
    const isGap = (item.action || {}).type === 'gap' || item.kind === 'gap';
    const key = item.key || String(item.id || '').split(':').pop();
    const what = isGap ? `«${item.text}»` : missingText(key, item.text);
    const button = el('button', { type: 'button', class: 'ci-open', 'aria-expanded': 'false', 'data-testid': 'checklist-open' },
      t(isGap ? 'answerGap' : 'writeSection'));
    const slot = el('div', { class: 'ci-form' });
    const li = el('li', { class: 'ci ci-' + item.kind, 'data-kind': item.kind, 'data-id': item.id, 'data-testid': 'checklist-item' },
      el('div', { class: 'ci-row' },
        el('span', { class: 'ci-check', 'aria-hidden': 'true' }),
        el('div', { class: 'ci-body' },
          el('span', { class: 'ci-kind small muted' }, t(isGap ? 'ciGap' : 'ciMissing'), ' · ',
            el('a', { href: clientHref(item.client) }, item.title || item.client)),
          el('span', { class: 'ci-text' }, what)),
        button),
      slot);
    const close = (focus) => {
      slot.replaceChildren();
      button.hidden = false;
      button.setAttribute('aria-expanded', 'false');
      if (focus !== false) button.focus();
    };
    button.addEventListener('click', () => {
      button.setAttribute('aria-expanded', 'true');
      button.hidden = true;
      slot.replaceChildren(checklistForm(item, i, ctx, close));
      $('textarea', slot).focus();
    });
    return li;
  }

  function checklistSection(d, ctx) {
    const items = d.checklist || [];
    const sec = el('section', { id: 'checklist', class: 'checklist', 'data-testid': 'checklist', 'aria-labelledby': 'checklist-h' },
      el('h2', { id: 'checklist-h', tabindex: '-1' }, t('checklistTitle')),
      el('p', { class: 'muted small' }, t('checklistIntro')));
    if (ctx.flash) sec.append(ctx.flash);
    if (items.length) {
      sec.append(el('p', { class: 'ci-left', 'data-testid': 'checklist-left' }, t('checklistLeft', { n: items.length })),
        el('ol', { class: 'ci-list' }, items.map((it, i) => checklistItem(it, i, ctx))));
    } else {
      sec.append(el('p', { class: 'ci-done', 'data-testid': 'checklist-done' }, t('checklistDone')));
    }
    return sec;
  }

  function getOwners() {
    if (!state.owners) {
      state.owners = api('GET', '/api/due?within=0').then((d) => (d.owners || []).map((o) => o.owner).filter(Boolean))
        .catch(() => { state.owners = null; return []; });
    }
    return state.owners;
  }

  function reassignSection(d, ctx) {
    const to = el('input', { id: 'reassign-to', type: 'text', list: 'reassign-owners', autocomplete: 'off', maxlength: 200,
      value: ctx.to || '', 'data-testid': 'reassign-to' });
    const owners = el('datalist', { id: 'reassign-owners' });
    getOwners().then((list) => {
      for (const o of list) if (o !== d.owner) owners.append(el('option', { value: o }));
    });
    const client = el('select', { id: 'reassign-client', 'data-testid': 'reassign-client' },
      el('option', { value: '' }, t('reassignAll')),
      (d.clients || []).map((c) => el('option', { value: c.client }, c.title || c.client)));
    const button = el('button', { type: 'submit', class: 'primary', 'data-testid': 'reassign' }, t('reassignBtn'));
    const form = el('form', { id: 'reassign-form', class: 'reassign-form', novalidate: true },
      field(t('reassignTo'), to), owners, field(t('reassignClient'), client), el('div', { class: 'field' }, button));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = to.value.trim();
      if (!name) { showError(t('reassignEmpty')); to.focus(); return; }
      clearError();
      button.disabled = true;
      try {
        const body = { to: name };
        if (client.value) body.client = client.value;
        const r = await api('POST', '/api/handover/' + encodeURIComponent(ctx.owner) + '/reassign', body);
        state.clients = null;
        state.owners = null;
        ctx.to = name;
        ctx.reassigned = el('div', { class: 'answered', role: 'status', 'data-testid': 'reassigned' },
          el('p', {}, t('reassigned', { to: r.to || name, n: (r.changed || []).length })),
          (r.changed || []).length ? el('ul', { class: 'small' }, r.changed.map((p) => el('li', {}, el('a', { href: docHash(p) }, p)))) : null,
          el('p', {}, el('a', { href: handoverHref(r.to || name) }, t('reassignedTo', { to: r.to || name }))));
      } catch (err) {
        showError(err.message);
        button.disabled = false;
        return;
      }
      try {
        await reloadHandover(ctx);
      } catch (err) { // every client was handed over: the owner owns no client card any more
        if (ctx.seq !== state.seq) return;
        ctx.meta.replaceChildren();
        ctx.content.replaceChildren(el('p', {}, t('noHandoverClients', { owner: ctx.owner })),
          el('section', { id: 'reassign', class: 'reassign' }, ctx.reassigned));
      }
    });
    return el('section', { id: 'reassign', class: 'reassign no-print', 'aria-labelledby': 'reassign-h' },
      el('h2', { id: 'reassign-h' }, t('reassignTitle')), el('p', { class: 'muted small' }, t('reassignIntro')),
      ctx.reassigned, form);
  }

  function toChecklist(n) {
    const b = el('button', { type: 'button', class: 'linkish', 'data-testid': 'to-checklist' }, t('checklistLeft', { n }));
    b.addEventListener('click', () => {
      const list = $('#checklist');
      if (!list) return;
      list.scrollIntoView({ block: 'start' });
      $('#checklist-h')?.focus({ preventScroll: true });
    });
    return b;
  }

  function renderHandover(d, ctx) {
    const clients = d.clients || [];
    ctx.intro.textContent = t('handoverIntro', { today: fmtDate(d.today) });
    ctx.meta.replaceChildren(...[t('handoverCount', { n: clients.length }),
      ...(d.to ? [' · ', t('handoverTo', { to: d.to })] : []),
      ...((d.checklist || []).length ? [el('span', { class: 'no-print' }, ' · ', toChecklist(d.checklist.length))] : [])]);
    ctx.content.replaceChildren(
      clients.length ? el('div', { class: 'ho-clients' }, clients.map(handoverClient))
        : el('p', {}, t('noHandoverClients', { owner: d.owner || ctx.owner })),
      checklistSection(d, ctx),
      reassignSection(d, ctx));
  }

  async function reloadHandover(ctx) {
    const url = '/api/handover/' + encodeURIComponent(ctx.owner) + (ctx.to ? '?to=' + encodeURIComponent(ctx.to) : '');
    const d = await api('GET', url);
    if (ctx.seq !== state.seq) return;
    renderHandover(d, ctx);
    const flash = ctx.flash || ctx.reassigned;
    if (flash && flash.isConnected && !flash.dataset.shown) { // the saved item's form is gone: focus what was saved
      flash.dataset.shown = '1';
      flash.setAttribute('tabindex', '-1');
      flash.scrollIntoView({ block: 'nearest' });
      flash.focus({ preventScroll: true });
    }
  }

  async function viewHandover(view, owner, seq, params) {
    setTitle(t('handoverTitle', { owner }));
    const ctx = {
      owner, to: params.get('to') || '', seq, flash: null, reassigned: null,
      intro: el('p', { class: 'muted' }), meta: el('p', { class: 'ho-meta small' }),
      content: el('div', { id: 'handover', class: 'handover', 'data-testid': 'handover' }),
    };
    const printBtn = el('button', { type: 'button', id: 'print', 'data-testid': 'print' }, t('print'));
    printBtn.addEventListener('click', () => window.print());
    view.append(el('p', { class: 'small no-print' }, el('a', { href: '#/due' }, t('backToDue'))),
      el('div', { class: 'ho-title' }, el('h1', { tabindex: '-1' }, t('handoverTitle', { owner })), printBtn),
      ctx.intro, ctx.meta, ctx.content);
    focusHeading(view);
    const spin = spinner(t('loading'));
    ctx.content.append(spin);
    try {
      await reloadHandover(ctx);
    } catch (e) {
      if (seq === state.seq) { spin.remove(); showError(e.message); }
    }
  }


  /* ---------- editing: #/edit/<path>, #/new ---------- */

  const DOC_TYPES = { client: 'tClient', product: 'tProduct', policy: 'tPolicy', faq: 'tFaq', playbook: 'tPlaybook' };
  const AUTHOR_KEY = 'kb.author';

  function canEdit() {
    const m = state.me;
    return Boolean(m) && (m.open || m.role === 'editor' || m.role === 'admin');
  }

  function editHash(path) { return '#/edit/' + encPath(path); }

  /** "Edit" on the document view, for editors. */
  function editLink(path) {
    if (!canEdit()) return null;
    return el('a', { href: editHash(path), class: 'button edit-link', id: 'edit-doc', 'data-testid': 'edit' }, t('edit'));
  }

  /** "New document" and "Import" in the top navigation, for editors. */
  function addEditNav() {
    const nav = $('#nav');
    if (!nav || !canEdit()) return;
    if (!nav.querySelector('[data-nav="new"]')) {
      nav.append(el('a', { href: '#/new', 'data-nav': 'new', 'data-i18n': 'navNew' }, t('navNew')));
    }
    if (!nav.querySelector('[data-nav="import"]')) {
      nav.append(el('a', { href: '#/import', 'data-nav': 'import', 'data-i18n': 'navImport' }, t('navImport')));
    }
  }

  function loadAuthor() { try { return localStorage.getItem(AUTHOR_KEY) || ''; } catch (e) { return ''; } }
  function saveAuthor(name) { try { localStorage.setItem(AUTHOR_KEY, name); } catch (e) { /* private mode */ } }

  /** Who edits, asked only when kb has no users (everyone is the same local user then). */
  function authorField(id, hint) {
    if (!state.me || !state.me.open) return null;
    const input = el('input', { id, type: 'text', autocomplete: 'name', maxlength: 200, value: loadAuthor(),
      placeholder: t(hint || 'yourNameHint') });
    input.addEventListener('change', () => saveAuthor(input.value.trim()));
    return input;
  }

  function findingItem(f, ctx, path) {
    const where = f.path && f.path !== path ? t('inFile', { path: f.path, n: f.line }) : t('atLine', { n: f.line });
    const jump = el('button', { type: 'button', class: 'linkish line-ref', 'data-line': f.line }, where);
    if (!f.path || f.path === path) jump.addEventListener('click', () => selectLine(ctx.text, f.line));
    else jump.disabled = true;
    return el('li', { class: 'finding ' + (f.severity === 'error' ? 'err' : 'warn'), 'data-code': f.code },
      jump, ': ', f.message, el('span', { class: 'muted small' }, ` [${f.code}]`));
  }

  /** Select line n of a textarea and scroll it into view. */
  function selectLine(area, n) {
    const lines = area.value.split('\n');
    const start = lines.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[n - 1] || '').length);
    const lh = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (n - 3) * lh);
  }

  function showFindings(ctx, errors, warnings) {
    const box = ctx.findings;
    box.replaceChildren();
    if (errors && errors.length) {
      box.append(el('p', { class: 'findings-h err' }, t('lintErrors')),
        el('ul', { id: 'lint-errors', class: 'findings', 'data-testid': 'lint-errors' }, errors.map((f) => findingItem(f, ctx, ctx.path))));
    }
    if (warnings && warnings.length) {
      box.append(el('p', { class: 'findings-h' }, t('lintWarnings')),
        el('ul', { id: 'lint-warnings', class: 'findings', 'data-testid': 'lint-warnings' }, warnings.map((f) => findingItem(f, ctx, ctx.path))));
    }
  }

  function setDirty(ctx, dirty) {
    ctx.dirty = dirty; // state.editing is ctx: route() asks before leaving unsaved text
    ctx.dirtyNote.hidden = !dirty;
  }

  /** Lines of a that b lacks, as a set of indexes: enough to mark what differs in two versions side by side. */
  function differing(a, b) {
    const counts = new Map();
    for (const line of b) counts.set(line, (counts.get(line) || 0) + 1);
    const out = new Set();
    a.forEach((line, i) => {
      const n = counts.get(line) || 0;
      if (n) counts.set(line, n - 1); else out.add(i);
    });
    return out;
  }

  function versionPane(id, title, text, other) {
    const lines = text.split('\n');
    const diff = differing(lines, other.split('\n'));
    return el('section', { class: 'conflict-pane', 'aria-labelledby': id + '-h' },
      el('h3', { id: id + '-h' }, title),
      el('pre', { id, class: 'version-text', 'data-testid': id, tabindex: '0' },
        lines.map((line, i) => el('span', { class: diff.has(i) ? 'line diff' : 'line' }, line + '\n'))));
  }

  /** Someone saved first: both texts side by side; take theirs or overwrite with yours. */
  function showConflict(ctx, data) {
    const yours = data.yours ?? ctx.text.value;
    const theirs = data.theirs ?? '';
    const take = el('button', { type: 'button', id: 'take-theirs', 'data-testid': 'take-theirs' }, t('takeTheirs'));
    const keep = el('button', { type: 'button', id: 'keep-mine', class: 'primary', 'data-testid': 'keep-mine' }, t('keepMine'));
    const box = el('section', { id: 'conflict', class: 'conflict', role: 'alert', 'data-testid': 'conflict', tabindex: '-1' },
      el('h2', {}, t('conflictTitle')), el('p', { class: 'small' }, t('conflictIntro')),
      el('div', { class: 'conflict-grid' }, versionPane('conflict-yours', t('yours'), yours, theirs),
        versionPane('conflict-theirs', t('theirs'), theirs, yours)),
      el('div', { class: 'buttons' }, take, keep));
    take.addEventListener('click', () => {
      ctx.text.value = theirs;
      ctx.version = data.version;
      setDirty(ctx, false);
      box.remove();
      ctx.status.textContent = '';
      schedulePreview(ctx, 0);
      loadHistory(ctx);
    });
    keep.addEventListener('click', async () => {
      ctx.version = data.version; // the editor's text (yours, and whatever was typed since) goes over theirs
      box.remove();
      await saveDoc(ctx);
    });
    ctx.conflictSlot.replaceChildren(box);
    box.focus();
  }

  async function saveDoc(ctx) {
    clearError();
    ctx.conflictSlot.replaceChildren();
    ctx.save.disabled = true;
    ctx.status.textContent = t('saving');
    const body = { markdown: ctx.text.value, version: ctx.version };
    if (ctx.author && ctx.author.value.trim()) { body.author = ctx.author.value.trim(); saveAuthor(body.author); }
    try {
      const r = await api('PUT', '/api/documents/' + encPath(ctx.path), body);
      ctx.version = r.version;
      if (ctx.text.value === body.markdown) setDirty(ctx, false);
      ctx.status.replaceChildren(r.changed === false ? t('unchanged') : t('saved'), ' ',
        el('a', { href: docHash(ctx.path), id: 'to-doc' }, t('toDocument')));
      showFindings(ctx, [], r.warnings || []);
      state.doc = null;
      loadHistory(ctx);
    } catch (e) {
      ctx.status.textContent = '';
      if (e.status === 409 && e.data && 'theirs' in e.data) { showConflict(ctx, e.data); loadHistory(ctx); }
      else if (e.status === 422 && e.data && e.data.errors) {
        showFindings(ctx, e.data.errors, e.data.warnings || []);
        ctx.findings.querySelector('button.line-ref')?.focus();
      } else showError(e.message);
    } finally {
      ctx.save.disabled = false;
    }
  }

  function schedulePreview(ctx, delay) {
    clearTimeout(ctx.timer);
    ctx.timer = setTimeout(() => renderPreview(ctx), delay === undefined ? 350 : delay);
  }

  async function renderPreview(ctx) {
    const token = (ctx.previewSeq = (ctx.previewSeq || 0) + 1);
    ctx.previewState.textContent = t('previewUpdating');
    try {
      const r = await api('POST', '/api/preview', { markdown: ctx.text.value, path: ctx.path });
      if (token !== ctx.previewSeq) return;
      ctx.preview.innerHTML = r.html || ''; // trusted: rendered by our own server, raw HTML escaped
      hideDuplicateTitle(ctx.preview, r.title || '');
      ctx.previewState.textContent = '';
      ctx.previewState.classList.remove('err');
    } catch (e) {
      if (token !== ctx.previewSeq) return;
      ctx.previewState.textContent = e.message;
      ctx.previewState.classList.add('err');
    }
  }

  function versionLabel(v) {
    return t('versionOf', { at: fmtTime(v.at), author: v.author || '—' });
  }

  async function loadHistory(ctx) {
    const list = ctx.history;
    try {
      const versions = await api('GET', '/api/documents/' + encPath(ctx.path) + '/versions');
      if (!list.isConnected) return;
      if (!versions.length) { list.replaceChildren(el('li', { class: 'muted' }, t('noVersions'))); return; }
      // the newest version is the file's text when the editor holds it too (a file changed outside kb is not)
      list.replaceChildren(...versions.map((v, i) => versionItem(ctx, v, i === 0 && v.version === ctx.version)));
    } catch (e) {
      if (list.isConnected) list.replaceChildren(el('li', { class: 'muted' }, e.message));
    }
  }

  function versionItem(ctx, v, current) {
    const url = '/api/documents/' + encPath(ctx.path) + '/versions/' + encodeURIComponent(v.id);
    const show = el('button', { type: 'button', class: 'view-version', 'aria-expanded': 'false' }, t('view'));
    const restore = el('button', { type: 'button', class: 'restore-version', disabled: current }, t('restore'));
    const pane = el('div', { class: 'version-view', hidden: true });
    const item = el('li', { class: 'version' + (current ? ' current' : ''), 'data-version': v.version, 'data-id': v.id },
      el('div', { class: 'version-head' },
        el('span', {}, el('strong', {}, fmtTime(v.at)), ' · ', v.author || '—',
          v.message === 'before kb edits' ? el('span', { class: 'muted small' }, ` (${t('beforeKb')})`) : null,
          ' ', el('code', { class: 'small muted', title: v.id }, (v.version || '').slice(0, 8)),
          current ? [' ', el('span', { class: 'badge ok' }, t('current'))] : null),
        el('span', { class: 'buttons' }, show, restore)),
      pane);
    show.addEventListener('click', async () => {
      if (!pane.hidden) { pane.hidden = true; show.textContent = t('view'); show.setAttribute('aria-expanded', 'false'); return; }
      try {
        const d = await api('GET', url);
        const r = await api('POST', '/api/preview', { markdown: d.markdown, path: ctx.path });
        const doc = el('div', { class: 'doc version-doc' });
        doc.innerHTML = r.html || ''; // trusted: rendered by our own server
        pane.replaceChildren(el('p', { class: 'small muted' }, versionLabel(v)), doc,
          el('details', {}, el('summary', {}, t('markdown')), el('pre', { class: 'version-text' }, d.markdown)));
        pane.hidden = false;
        show.textContent = t('hide');
        show.setAttribute('aria-expanded', 'true');
      } catch (e) { showError(e.message); }
    });
    restore.addEventListener('click', async () => {
      if (!window.confirm(ctx.dirty ? t('restoreDirty') : t('restoreConfirm'))) return;
      clearError();
      restore.disabled = true;
      const body = { version: ctx.version };
      if (ctx.author && ctx.author.value.trim()) body.author = ctx.author.value.trim();
      try {
        const r = await api('POST', url + '/restore', body);
        const src = await api('GET', '/api/documents/' + encPath(ctx.path) + '/source');
        ctx.text.value = src.markdown;
        ctx.version = src.version;
        setDirty(ctx, false);
        ctx.status.replaceChildren(t('restored'), ' ', el('a', { href: docHash(ctx.path) }, t('toDocument')));
        showFindings(ctx, [], r.warnings || []);
        state.doc = null;
        schedulePreview(ctx, 0);
        loadHistory(ctx);
      } catch (e) {
        restore.disabled = false;
        if (e.status === 409 && e.data && 'theirs' in e.data) showError(e.message);
        else if (e.status === 422 && e.data && e.data.errors) showFindings(ctx, e.data.errors, e.data.warnings || []);
        else showError(e.message);
      }
    });
    return item;
  }

  async function viewEdit(view, path, seq) {
    setTitle(t('editTitle', { title: path }));
    const src = await load(view, seq, '/api/documents/' + encPath(path) + '/source');
    if (!src) return;
    const text = el('textarea', { id: 'editor-text', class: 'editor-text', spellcheck: 'true', 'data-testid': 'editor-text',
      'aria-describedby': 'edit-status' });
    text.value = src.markdown;
    const ctx = {
      path, version: src.version, text, dirty: false, hash: location.hash, timer: 0,
      preview: el('div', { id: 'preview', class: 'doc preview', 'data-testid': 'preview', 'aria-live': 'off' }),
      previewState: el('span', { class: 'small muted preview-state', role: 'status' }),
      save: el('button', { type: 'button', id: 'save', class: 'primary', 'data-testid': 'save' }, t('save')),
      status: el('p', { id: 'edit-status', class: 'edit-status', role: 'status', 'data-testid': 'edit-status' }),
      dirtyNote: el('span', { class: 'small dirty', hidden: true }, t('unsaved')),
      findings: el('div', { id: 'findings', class: 'findings-box' }),
      conflictSlot: el('div', { id: 'conflict-slot' }),
      history: el('ol', { id: 'history', class: 'history', 'data-testid': 'history' }),
      author: authorField('edit-author'),
    };
    state.editing = ctx;
    const title = (src.markdown.match(/^title:\s*["']?(.+?)["']?\s*$/m) || [])[1] || path;
    setTitle(t('editTitle', { title }));
    text.addEventListener('input', () => { setDirty(ctx, true); schedulePreview(ctx); });
    text.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') { e.preventDefault(); saveDoc(ctx); }
    });
    ctx.save.addEventListener('click', () => saveDoc(ctx));
    view.append(
      el('header', { class: 'doc-head' },
        el('h1', { tabindex: '-1' }, t('editTitle', { title })),
        el('p', { class: 'path small' }, path, ' · ', el('a', { href: docHash(path) }, t('toDocument'))),
        el('p', { class: 'muted small' }, t('editIntro'))),
      ctx.conflictSlot,
      el('div', { class: 'editor-grid' },
        el('div', { class: 'editor-pane' }, el('label', { for: 'editor-text', class: 'pane-label' }, t('markdown')), text),
        el('div', { class: 'editor-pane' }, el('p', { class: 'pane-label' }, t('preview'), ' ', ctx.previewState), ctx.preview)),
      el('div', { class: 'edit-actions' },
        ctx.author ? el('div', { class: 'field author' }, el('label', { for: 'edit-author' }, t('yourName')), ctx.author) : null,
        ctx.save, ctx.dirtyNote),
      ctx.status, ctx.findings,
      el('section', { class: 'history-wrap', 'aria-labelledby': 'history-h' },
        el('h2', { id: 'history-h' }, t('history')), el('p', { class: 'small muted' }, t('historyIntro')),
        ctx.history));
    focusHeading(view);
    renderPreview(ctx);
    loadHistory(ctx);
  }

  function viewNew(view, seq, params) {
    setTitle(t('newTitle'));
    const type = el('select', { id: 'new-type', 'data-testid': 'new-type' },
      Object.entries(DOC_TYPES).map(([k, label]) => el('option', { value: k }, t(label))));
    if (DOC_TYPES[params.get('type')]) type.value = params.get('type');
    const title = el('input', { id: 'new-title', type: 'text', maxlength: 300, autocomplete: 'off', 'data-testid': 'new-title' });
    const client = el('input', { id: 'new-client', type: 'text', maxlength: 200, autocomplete: 'off', list: 'new-clients',
      value: params.get('client') || '', placeholder: t('docClientHint') });
    const clients = el('datalist', { id: 'new-clients' });
    getClients().then((list) => { for (const c of list) clients.append(el('option', { value: c.id }, c.title || c.id)); })
      .catch(() => { /* the field still takes any id */ });
    const products = el('input', { id: 'new-products', type: 'text', maxlength: 500, autocomplete: 'off' });
    const owner = authorField('new-owner', 'docOwnerHint');
    const button = el('button', { type: 'submit', class: 'primary', 'data-testid': 'create' }, t('create'));
    const findings = el('div', { class: 'findings-box' });
    const form = el('form', { id: 'new-form', class: 'new-form', novalidate: true },
      field(t('docType'), type), field(t('docTitle'), title), field(t('docClient'), client), clients,
      field(t('docProducts'), products), owner ? field(t('docOwner'), owner) : null,
      el('div', { class: 'field' }, button));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearError();
      findings.replaceChildren();
      if (!title.value.trim()) { showError(t('emptyTitle')); title.focus(); return; }
      const body = { type: type.value, title: title.value.trim() };
      if (client.value.trim()) body.client = client.value.trim();
      const prods = products.value.split(',').map((p) => p.trim()).filter(Boolean);
      if (prods.length) body.products = prods;
      if (owner && owner.value.trim()) { body.owner = owner.value.trim(); saveAuthor(body.owner); }
      button.disabled = true;
      try {
        const r = await api('POST', '/api/documents', body);
        state.clients = null;
        location.hash = editHash(r.path);
      } catch (err) {
        showError(err.message);
        if (err.status === 422 && err.data && err.data.errors) {
          findings.append(el('ul', { class: 'findings' }, err.data.errors.map((f) =>
            el('li', { class: 'finding err' }, f.message, el('span', { class: 'muted small' }, ` [${f.code}]`)))));
        }
      } finally {
        if (seq === state.seq) button.disabled = false;
      }
    });
    view.append(el('h1', { tabindex: '-1' }, t('newTitle')), el('p', { class: 'muted' }, t('newIntro')),
      el('p', { class: 'small' }, t('newImportHint'), el('a', { href: '#/import', id: 'new-import' }, t('newImportLink'))),
      form, findings);
    title.focus();
  }

  /* ---------- importing: #/import ---------- */

  const IMPORT_ACCEPT = '.docx,.pdf,.html,.htm,.txt,.md,.eml';
  const CRM_ACCEPT = '.csv,.xlsx';
  const CRM_ACTIONS = { // action -> [label key, label key in a dry run, badge colour class]
    created: ['aCreated', 'aCreatedDry', 'ok'], updated: ['aUpdated', 'aUpdatedDry', 'warn'],
    unchanged: ['aUnchanged', 'aUnchanged', 'none'], skipped: ['aSkipped', 'aSkipped', 'err'],
  };

  function fileSize(bytes) {
    if (bytes >= 1024 * 1024) {
      return t('mb', { n: (bytes / 1048576).toLocaleString(locale(), { maximumFractionDigits: 1 }) });
    }
    return t('kb', { n: Math.max(1, Math.round(bytes / 1024)) });
  }

  /** The owner of what is imported: the signed-in user's name, or (kb without users) the name this browser keeps. */
  function ownerInput(id, hint) {
    const me = state.me;
    const input = el('input', { id, type: 'text', autocomplete: 'name', maxlength: 200, placeholder: t(hint),
      value: me && !me.open ? me.name : loadAuthor(), 'data-testid': id });
    if (!me || me.open) input.addEventListener('change', () => saveAuthor(input.value.trim()));
    return input;
  }

  /** Why an upload failed, for people: the server's reason, or what a 413 or a dropped connection means. */
  function uploadError(e, file) {
    if (e.status === 413) return t('importTooBig', { size: fileSize(file.size), msg: e.message });
    if (e.network && file.size > 1024 * 1024) return t('importSendFailed', { size: fileSize(file.size) });
    return e.message;
  }

  function queryUrl(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    return path + '?' + q.toString();
  }

  /** A form field with a hint under the control (read out with it). */
  function hintedField(label, control, hint) {
    const id = control.id + '-hint';
    control.setAttribute('aria-describedby', id);
    return el('div', { class: 'field' }, el('label', { for: control.id }, label), control,
      el('span', { id, class: 'small muted' }, hint));
  }

  function errorNote(msg, testid) {
    return el('p', { class: 'import-error', role: 'alert', 'data-testid': testid || null }, msg);
  }

  async function viewImport(view, seq) {
    setTitle(t('importTitle'));
    view.append(el('h1', { tabindex: '-1' }, t('importTitle')), el('p', { class: 'muted' }, t('importIntro')));
    focusHeading(view);
    if (!state.me) { // not signed in yet: /api/me answers 401 and the app asks for the token
      const me = await load(view, seq, '/api/me');
      if (!me) return;
      state.me = me;
      state.csrf = me.csrf || state.csrf;
      addEditNav();
    }
    if (!canEdit()) { view.append(errorNote(t('importNoRights'), 'import-no-rights')); return; }
    view.append(importDocsSection(seq), importCrmSection(seq));
  }

  function importItemHead(file, status) {
    return el('div', { class: 'import-head' },
      el('strong', { class: 'import-name' }, file.name), el('span', { class: 'muted small' }, fileSize(file.size)), status);
  }

  function importedItem(li, file, r, dryRun) {
    li.dataset.status = dryRun ? 'preview' : 'imported';
    li.dataset.path = r.path;
    const badge = el('span', { class: 'badge ' + (dryRun ? 'none' : 'ok'), 'data-testid': 'import-status' },
      t(dryRun ? 'sDry' : 'sOk'));
    const where = el('p', { class: 'import-path' }, t(dryRun ? 'importWouldBe' : 'importSavedAs'),
      el('code', { 'data-testid': 'import-path' }, r.path));
    const about = el('p', { class: 'small muted' }, t('importTitleLine', { title: r.title }), ' · ',
      t('importFormat', { format: r.format }));
    const markdown = el('pre', { class: 'import-md', 'data-testid': 'import-markdown' }, r.markdown);
    if (dryRun) { li.replaceChildren(importItemHead(file, badge), where, about, markdown); return; }
    li.replaceChildren(importItemHead(file, badge), where, about, el('p', { class: 'small' }, t('importIndexed')),
      el('p', { class: 'buttons' },
        el('a', { href: docHash(r.path), class: 'button', 'data-testid': 'import-open' }, t('importOpen')),
        el('a', { href: editHash(r.path), class: 'button', 'data-testid': 'import-edit' }, t('importEdit'))),
      el('details', {}, el('summary', {}, t('markdown')), markdown));
  }

  function refusedItem(li, file, e) {
    li.dataset.status = 'refused';
    li.replaceChildren(
      importItemHead(file, el('span', { class: 'badge err', 'data-testid': 'import-status' }, t('sRefused'))),
      el('p', { class: 'import-reason', 'data-testid': 'import-reason' },
        el('strong', {}, t('importReason')), uploadError(e, file)));
  }

  /** Documents: every chosen file is sent on its own, one after another; each gets its own result. */
  function importDocsSection(seq) {
    const files = el('input', { id: 'import-files', type: 'file', multiple: true, accept: IMPORT_ACCEPT,
      'data-testid': 'import-files' });
    const type = el('select', { id: 'import-type', 'data-testid': 'import-type' },
      el('option', { value: '' }, t('importTypeAuto')),
      Object.entries(DOC_TYPES).map(([k, label]) => el('option', { value: k }, t(label))));
    const client = el('select', { id: 'import-client', 'data-testid': 'import-client' },
      el('option', { value: '' }, t('importNoClient')));
    getClients().then((list) => { for (const c of list) client.append(el('option', { value: c.id }, c.title || c.id)); })
      .catch((e) => showError(e.message));
    const owner = ownerInput('import-owner', 'importOwnerHint');
    const preview = el('button', { type: 'button', id: 'import-preview', 'data-testid': 'import-preview' }, t('importPreview'));
    const run = el('button', { type: 'submit', id: 'import-run', class: 'primary', 'data-testid': 'import-run' },
      t('importRun'));
    const summary = el('p', { id: 'import-summary', class: 'import-summary', role: 'status', 'data-testid': 'import-summary' });
    const results = el('ol', { id: 'import-results', class: 'import-results', 'data-testid': 'import-results' });
    const form = el('form', { id: 'import-form', class: 'import-form', novalidate: true },
      el('div', { class: 'span' }, hintedField(t('importFiles'), files, IMPORT_ACCEPT.split(',').join(' '))),
      hintedField(t('importType'), type, t('importTypeHint')), field(t('importClient'), client),
      field(t('importOwner'), owner),
      el('div', { class: 'buttons span' }, preview, run));
    let busy = false;
    const go = async (dryRun) => {
      if (busy) return;
      clearError();
      const list = Array.from(files.files || []);
      if (!list.length) { summary.replaceChildren(errorNote(t('importNoFiles'))); files.focus(); return; }
      busy = true;
      preview.disabled = run.disabled = true;
      const params = { type: type.value, client: client.value, owner: owner.value.trim(), dry_run: String(dryRun) };
      if (params.owner && (!state.me || state.me.open)) saveAuthor(params.owner);
      const items = list.map((f) => el('li', { class: 'import-item', 'data-file': f.name, 'data-status': 'waiting',
        'data-testid': 'import-item' }, importItemHead(f, el('span', { class: 'muted small' }, t('importWaiting')))));
      results.replaceChildren(...items);
      summary.replaceChildren();
      let ok = 0;
      try {
        for (let i = 0; i < list.length; i++) {
          if (seq !== state.seq) return; // the user left the page (or was sent to sign in)
          const f = list[i];
          items[i].dataset.status = 'uploading';
          items[i].replaceChildren(importItemHead(f, spinner(t('importUploading'))));
          try {
            const r = await api('POST', queryUrl('/api/import', { ...params, name: f.name }), f);
            importedItem(items[i], f, r, dryRun);
            ok++;
          } catch (e) {
            refusedItem(items[i], f, e);
          }
        }
        if (!dryRun && ok) {
          state.clients = null; // client pages count documents
          files.value = ''; // importing the same files again would make copies
        }
        summary.textContent = t(dryRun ? 'importSummaryDry' : 'importSummary',
          { ok, n: list.length, bad: list.length - ok });
      } finally {
        busy = false;
        preview.disabled = run.disabled = false;
      }
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); go(false); });
    preview.addEventListener('click', () => go(true));
    return el('section', { id: 'import-docs', class: 'import-section', 'aria-labelledby': 'import-docs-h' },
      el('h2', { id: 'import-docs-h' }, t('importDocsTitle')), el('p', { class: 'muted small' }, t('importDocsIntro')),
      form, summary, results);
  }

  /** A unified diff with its added, removed and hunk lines marked. */
  function diffPre(text) {
    return el('pre', { class: 'diff-text', 'data-testid': 'crm-diff' },
      text.replace(/\n$/, '').split('\n').map((line, i) => {
        const cls = i < 2 && /^(---|\+\+\+) /.test(line) ? 'd-file' : line.startsWith('@@') ? 'd-hunk'
          : line[0] === '+' ? 'd-add' : line[0] === '-' ? 'd-del' : null;
        return el('span', { class: cls }, line + '\n');
      }));
  }

  function crmFile(f, dry) {
    const a = CRM_ACTIONS[f.action] || [f.action, f.action, 'none'];
    const exists = Boolean(f.path) && f.action !== 'skipped' && !(dry && f.action === 'created');
    const name = f.title || f.company || f.path;
    const li = el('li', { class: 'crm-file a-' + f.action, 'data-action': f.action, 'data-path': f.path || null,
      'data-testid': 'crm-file' },
      el('div', { class: 'crm-head' },
        el('span', { class: 'badge ' + a[2], 'data-testid': 'crm-action' }, I18N[a[0]] ? t(a[dry ? 1 : 0]) : f.action),
        el('strong', {}, exists ? el('a', { href: docHash(f.path), 'data-testid': 'crm-open', title: t('crmOpenCard') }, name)
          : name),
        f.path ? el('code', { class: 'small muted crm-path' }, f.path) : null),
      el('p', { class: 'small muted crm-meta' }, f.company && f.company !== name ? [f.company, ' · '] : null,
        t('crmCounts', { c: f.contacts, d: f.deals })));
    if (f.reason) {
      li.append(el('p', { class: 'import-reason', 'data-testid': 'crm-reason' }, el('strong', {}, t('importReason')), f.reason));
    }
    if (f.diff) {
      const pre = diffPre(f.diff);
      li.append(dry ? pre : el('details', {}, el('summary', {}, t('crmDiff')), pre));
    }
    return li;
  }

  function crmReport(r) {
    const c = r.counts || {};
    const vars = { source: r.source, kind: String(r.kind || '').toUpperCase(), rows: r.rows, created: c.created || 0,
      updated: c.updated || 0, unchanged: c.unchanged || 0, skipped: c.skipped || 0 };
    const box = el('div', { class: 'crm-report', 'data-dry-run': String(r.dry_run) },
      el('p', { class: 'crm-summary', 'data-testid': 'crm-summary' }, t(r.dry_run ? 'crmSummaryDry' : 'crmSummary', vars)),
      r.skipped_rows ? el('p', { class: 'small' }, t('crmSkippedRows', { n: r.skipped_rows })) : null,
      !r.dry_run && r.reindexed ? el('p', { class: 'small' }, t('crmReindexed')) : null);
    const files = r.files || [];
    box.append(files.length ? el('ul', { id: 'crm-files', class: 'crm-files' }, files.map((f) => crmFile(f, r.dry_run)))
      : el('p', {}, t('crmNoFiles')));
    return box;
  }

  /** CRM: one export file, shown as a dry run (the diffs) or imported. */
  function importCrmSection(seq) {
    const file = el('input', { id: 'crm-file', type: 'file', accept: CRM_ACCEPT, 'data-testid': 'crm-file-input' });
    const format = el('select', { id: 'crm-format', 'data-testid': 'crm-format' },
      el('option', { value: 'amocrm' }, 'amoCRM'), el('option', { value: 'bitrix24' }, t('fBitrix')));
    const owner = ownerInput('crm-owner', 'importOwnerHint');
    const show = el('button', { type: 'button', id: 'crm-preview', 'data-testid': 'crm-preview' }, t('crmShow'));
    const run = el('button', { type: 'submit', id: 'crm-run', class: 'primary', 'data-testid': 'crm-run' }, t('crmRun'));
    const result = el('div', { id: 'crm-result', class: 'crm-result', 'aria-live': 'polite', 'data-testid': 'crm-result' });
    const form = el('form', { id: 'crm-form', class: 'import-form', novalidate: true },
      el('div', { class: 'span' }, hintedField(t('crmFile'), file, CRM_ACCEPT.split(',').join(' '))),
      field(t('crmFormat'), format), hintedField(t('importOwner'), owner, t('crmOwnerHint')),
      el('div', { class: 'buttons span' }, show, run));
    let busy = false;
    const go = async (dryRun) => {
      if (busy) return;
      clearError();
      const f = file.files && file.files[0];
      if (!f) { result.replaceChildren(errorNote(t('crmNoFile'))); file.focus(); return; }
      busy = true;
      show.disabled = run.disabled = true;
      result.replaceChildren(spinner(t('crmWorking')));
      try {
        const params = { format: format.value, dry_run: String(dryRun), name: f.name, owner: owner.value.trim() };
        const r = await api('POST', queryUrl('/api/import-crm', params), f);
        if (seq !== state.seq) return;
        if (!r.dry_run && r.changed && r.changed.length) state.clients = null;
        result.replaceChildren(crmReport(r));
      } catch (e) {
        if (seq === state.seq) result.replaceChildren(errorNote(uploadError(e, f), 'crm-error'));
      } finally {
        busy = false;
        show.disabled = run.disabled = false;
      }
    };
    form.addEventListener('submit', (e) => { e.preventDefault(); go(false); });
    show.addEventListener('click', () => go(true));
    return el('section', { id: 'import-crm', class: 'import-section', 'aria-labelledby': 'import-crm-h' },
      el('h2', { id: 'import-crm-h' }, t('crmTitle')), el('p', { class: 'muted small' }, t('crmIntro')), form, result);
  }

  /* ---------- routing and chrome ---------- */

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const i = raw.indexOf('?');
    return { path: i < 0 ? raw : raw.slice(0, i), params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
  }

  function setActiveNav(path) {
    const key = path === '/' || path === '' ? 'ask'
      : path.startsWith('/client') ? 'clients' : path === '/gaps' ? 'gaps'
        : path === '/stale' ? 'stale' : path === '/coverage' ? 'coverage'
          : path === '/due' || path.startsWith('/handover/') ? 'due' : path === '/new' ? 'new'
            : path === '/import' ? 'import' : '';
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function route() {
    const { path, params } = parseHash();
    if (state.editing && state.editing.dirty && !window.confirm(t('leaveUnsaved'))) {
      if (location.hash !== state.editing.hash) history.replaceState(null, '', state.editing.hash);
      return; // stay in the editor with the text as it is
    }
    state.editing = null;
    const seq = ++state.seq;
    $('#main').classList.toggle('wide', path.startsWith('/edit/'));
    const view = $('#view');
    clearError();
    setActiveNav(path);
    if (!path.startsWith('/doc/')) state.doc = null; // the cache only serves anchor hops within one document
    view.replaceChildren();
    if (path === '/login') return viewLogin(view);
    if (path === '/' || path === '') return viewAsk(view, params);
    if (path === '/clients') return viewClients(view, seq);
    if (path === '/gaps') return viewGaps(view, seq, params);
    if (path === '/stale') return viewStale(view, seq, params);
    if (path === '/coverage') return viewCoverage(view, seq);
    if (path === '/due') return viewDue(view, seq, params);
    if (path.startsWith('/handover/')) return viewHandover(view, safeDecode(path.slice(10)), seq, params);
    if (path.startsWith('/client/')) return viewClient(view, safeDecode(path.slice(8)), seq);
    if (path.startsWith('/doc/')) return viewDoc(view, decPath(path.slice(5)), params, seq);
    if (path.startsWith('/edit/')) return viewEdit(view, decPath(path.slice(6)), seq);
    if (path === '/new') return viewNew(view, seq, params);
    if (path === '/import') return viewImport(view, seq);
    setTitle(t('notFound'));
    view.append(el('h1', { tabindex: '-1' }, t('notFound')), el('p', {}, el('a', { href: '#/' }, t('navAsk'))));
    focusHeading(view);
  }

  function viewLogin(view) {
    setTitle(t('signInTitle'));
    const input = el('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: '' });
    const form = el('form', { id: 'signin-form' },
      field(t('token'), input), el('button', { id: 'signin', type: 'submit' }, t('signIn')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearError();
      try {
        const me = await api('POST', '/auth/login', { token: input.value.trim() });
        state.csrf = me.csrf;
        state.me = me;
        state.clients = null;
        addEditNav();
        location.hash = state.after || '#/';
      } catch (err) { showError(err.message); }
    });
    view.append(el('h1', { tabindex: '-1' }, t('signInTitle')), el('p', {}, t('signInIntro')), form);
    input.focus();
  }

  async function whoAmI() {
    try {
      const res = await fetch(served('/api/me'), { headers: { Accept: 'application/json' } });
      if (res.ok) {
        state.me = await res.json();
        state.csrf = state.me.csrf || '';
      }
    } catch (e) { /* the first API call reports it */ }
  }

  /** The Due page's link in the top navigation, after "Review" (index.html lists the older pages). */
  function addNav() {
    const nav = $('#nav');
    if (!nav || nav.querySelector('[data-nav="due"]')) return;
    const link = el('a', { href: '#/due', 'data-nav': 'due', 'data-i18n': 'navDue' }, t('navDue'));
    const after = nav.querySelector('[data-nav="stale"]');
    if (after) after.after(link); else nav.append(link);
  }

  function applyStatic() {
    document.documentElement.lang = state.lang;
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    for (const n of document.querySelectorAll('[data-i18n-label]')) n.setAttribute('aria-label', t(n.dataset.i18nLabel));
    const b = $('#lang');
    b.textContent = t('langBtn');
    b.title = t('langTitle');
    b.setAttribute('lang', state.lang === 'ru' ? 'en' : 'ru');
  }

  function toggleLang() {
    const q = $('#question');
    const draft = q ? q.value : '';
    state.lang = state.lang === 'ru' ? 'en' : 'ru';
    try { localStorage.setItem(LANG_KEY, state.lang); } catch (e) { /* private mode */ }
    applyStatic();
    route();
    const q2 = $('#question');
    if (q2 && draft && !q2.value) q2.value = draft;
    $('#lang').focus();
  }

  function init() {
    addNav();
    applyStatic();
    $('#lang').addEventListener('click', toggleLang);
    $('#skip').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
    window.addEventListener('hashchange', route);
    window.addEventListener('beforeunload', (e) => {
      if (state.editing && state.editing.dirty) { e.preventDefault(); e.returnValue = ''; }
    });
    whoAmI().then(() => { addEditNav(); route(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
