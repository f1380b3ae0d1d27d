// Skip logic in the browser: a line-by-line mirror of crates/core/src/relevance.rs, so the
// form reacts live. The Rust side stays the authority: `review` / `submit` re-check everything.
(function () {
  'use strict';

  // Whether a value counts as an answer (whitespace-only text and empty lists do not).
  function valueIsAnswered(v) {
    if (typeof v === 'number') return true;
    if (typeof v === 'string') return v.trim() !== '';
    if (Array.isArray(v)) return v.length > 0;
    return false; // undefined / null: no answer stored
  }

  function isAnswered(answers, item) {
    return valueIsAnswered(answers[item]);
  }

  // AnswerValue::matches_json: integer vs number, text vs string, codes vs string (any chosen).
  function matchesJson(a, v) {
    if (typeof a === 'number') return typeof v === 'number' && Number.isInteger(v) && a === v;
    if (typeof a === 'string') return typeof v === 'string' && a === v;
    if (Array.isArray(a)) return typeof v === 'string' && a.some((c) => c === v);
    return false;
  }

  // condition_holds: an unanswered item makes `equals` / `in` false.
  function conditionHolds(cond, answers) {
    const answer = (item) => (valueIsAnswered(answers[item]) ? answers[item] : undefined);
    if ('all' in cond) return cond.all.every((c) => conditionHolds(c, answers));
    if ('any' in cond) return cond.any.some((c) => conditionHolds(c, answers));
    if ('not' in cond) return !conditionHolds(cond.not, answers);
    if ('equals' in cond) {
      const a = answer(cond.item);
      return a !== undefined && matchesJson(a, cond.equals);
    }
    if ('in' in cond) {
      const a = answer(cond.item);
      return a !== undefined && cond.in.some((v) => matchesJson(a, v));
    }
    if ('answered' in cond) return isAnswered(answers, cond.item) === cond.answered;
    throw new Error('unknown condition shape: ' + JSON.stringify(cond));
  }

  function groupIsRelevant(group, answers) {
    return !group.relevant || conditionHolds(group.relevant, answers);
  }

  function itemIsRelevant(group, item, answers) {
    return groupIsRelevant(group, answers) && (!item.relevant || conditionHolds(item.relevant, answers));
  }

  // relevant_items: walks the form in display order; answers to skipped items are ignored
  // when evaluating later conditions (skips cascade). Returns [{group, item}].
  function relevantItems(form, answers) {
    const effective = {};
    const out = [];
    for (const group of form.groups) {
      for (const item of group.items) {
        if (itemIsRelevant(group, item, effective)) {
          if (Object.prototype.hasOwnProperty.call(answers, item.code)) effective[item.code] = answers[item.code];
          out.push({ group, item });
        }
      }
    }
    return out;
  }

  window.SIPAS_RELEVANCE = {
    valueIsAnswered, isAnswered, matchesJson, conditionHolds, groupIsRelevant, itemIsRelevant, relevantItems,
  };
})();
