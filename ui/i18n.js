// UI string catalogue: Vietnamese is the default language, English secondary.
// Every visible string of the UI comes from here (form texts come from schemas/).
window.SIPAS_I18N = {
  vi: {
    'app.title': 'SIPAS Field',
    'forms.heading': 'Phiếu khảo sát',
    'forms.loading': 'Đang tải…',
    'forms.count': (n) => `${n} phiếu khảo sát`,
    'forms.items': (g, i) => `${g} nhóm · ${i} câu hỏi`,
    'forms.error': (e) => `Không tải được danh sách phiếu: ${e}`,
    'nav.back': '← Quay lại',
    'group.items': (n) => `${n} câu`,
  },
  en: {
    'app.title': 'SIPAS Field',
    'forms.heading': 'Questionnaires',
    'forms.loading': 'Loading…',
    'forms.count': (n) => `${n} questionnaires`,
    'forms.items': (g, i) => `${g} groups · ${i} questions`,
    'forms.error': (e) => `Could not load the questionnaires: ${e}`,
    'nav.back': '← Back',
    'group.items': (n) => `${n} questions`,
  },
};
