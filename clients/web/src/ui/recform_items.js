// recform_items.js - the numbered items of a recommendation (PROTOCOL.md §16 `items`): add and
// remove up to REC_ITEMS_MAX; a medication item (MED_*) asks for the drug, the dose (not for
// MED_STOP), the titration and the monitoring, any other type for its text. Each control has a
// stable id (rec-items-K-FIELD) so the form can move the focus to the field at fault.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { ITEM_TYPES, REC_ITEMS_MAX, REC_SHORT_MAX, REC_TEXT_MAX, isMedItem } from '../protocol/recommend.js';

/** An empty item of a type. */
export const newItem = (type = ITEM_TYPES[0]) => ({ type, drug: '', dose: '', titration: '', monitoring: '', text: '' });

/** The id of an item's control (items[2].drug -> rec-items-2-drug). */
export const itemFieldId = (i, name) => `rec-items-${i}-${name}`;

/** Which fields an item of this type has. */
export function itemFields(type) {
  if (!isMedItem(type)) return ['text'];
  return type === 'MED_STOP' ? ['drug', 'titration', 'monitoring'] : ['drug', 'dose', 'titration', 'monitoring'];
}

function ItemField({ i, name, item, onChange, fieldError }) {
  const id = itemFieldId(i, name);
  const bad = fieldError?.field === `items[${i}].${name}`;
  const required = name === 'drug' || name === 'dose' || name === 'text';
  const max = name === 'drug' || name === 'dose' ? REC_SHORT_MAX : REC_TEXT_MAX;
  const props = {
    id,
    value: item[name],
    'aria-required': required ? 'true' : 'false',
    'aria-invalid': bad ? 'true' : 'false',
    'aria-describedby': bad ? `${id}-err` : undefined,
    onInput: (e) => onChange({ ...item, [name]: e.currentTarget.value }),
  };
  return html`<div class=${`field item-${name}`}>
    <label for=${id}>${t(`recform.item.${name}`)}${required ? '' : ` (${t('case.optional')})`}</label>
    ${name === 'text' || name === 'titration' || name === 'monitoring'
      ? html`<textarea rows="2" maxlength=${max} ...${props}></textarea>`
      : html`<input maxlength=${max} ...${props} />`}
    ${bad && html`<p class="field-error" id=${`${id}-err`}>${fieldError.message}</p>`}
  </div>`;
}

function Item({ i, item, onChange, onRemove, fieldError }) {
  const typeId = itemFieldId(i, 'type');
  const bad = fieldError?.field === `items[${i}].type` || fieldError?.field === `items[${i}]`;
  return html`<fieldset class="rec-item" data-index=${i}>
    <legend>${t('recform.item', { n: i + 1 })}</legend>
    <div class="field">
      <label for=${typeId}>${t('recform.item.type')}</label>
      <select id=${typeId} value=${item.type} aria-invalid=${bad ? 'true' : 'false'}
        aria-describedby=${bad ? `${typeId}-err` : undefined}
        onChange=${(e) => onChange({ ...newItem(e.currentTarget.value), drug: item.drug, dose: item.dose, text: item.text })}>
        ${ITEM_TYPES.map((ty) => html`<option value=${ty}>${t(`recform.type.${ty}`)}</option>`)}
      </select>
      ${bad && html`<p class="field-error" id=${`${typeId}-err`}>${fieldError.message}</p>`}
    </div>
    <div class="item-fields">
      ${itemFields(item.type).map(
        (name) => html`<${ItemField} i=${i} name=${name} item=${item} onChange=${onChange} fieldError=${fieldError} key=${name} />`,
      )}
    </div>
    <button type="button" class="small secondary" onClick=${onRemove}>
      ${t('recform.item.remove', { n: i + 1 })}
    </button>
  </fieldset>`;
}

/** The items editor: items, setItems(next); fieldError {field, message} from the form. */
export function ItemsEditor({ items, setItems, fieldError }) {
  const change = (i) => (it) => setItems(items.map((x, k) => (k === i ? it : x)));
  const remove = (i) => () => setItems(items.filter((_, k) => k !== i));
  const full = items.length >= REC_ITEMS_MAX;
  return html`<section class="rf-items" aria-labelledby="rec-items-h">
    <h3 id="rec-items-h">${t('recform.items', { n: items.length, max: REC_ITEMS_MAX })}</h3>
    ${items.map(
      (it, i) => html`<${Item} i=${i} item=${it} onChange=${change(i)} onRemove=${remove(i)} fieldError=${fieldError} key=${i} />`,
    )}
    ${fieldError?.field === 'items' && html`<p class="field-error" id="rec-items-err">${fieldError.message}</p>`}
    <button type="button" class="secondary" id="rec-items-add" disabled=${full} onClick=${() => setItems([...items, newItem()])}>
      ${t('recform.item.add')}
    </button>
    ${full && html`<p class="muted">${t('recform.items_full', { max: REC_ITEMS_MAX })}</p>`}
  </section>`;
}
