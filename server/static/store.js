// The demo store's own script: it listens to the widget's events the way a merchant page would.
const message = document.getElementById('store-message');
const log = document.getElementById('store-events');

for (const name of ['ready', 'paid', 'failed', 'error']) {
  document.addEventListener(`wallet-checkout:${name}`, (event) => {
    const item = document.createElement('li');
    item.textContent = `${event.type} ${JSON.stringify(event.detail)}`;
    log?.append(item);
    if (name === 'paid' && message) {
      message.textContent = 'Thank you! Your order is confirmed.';
    }
  });
}
