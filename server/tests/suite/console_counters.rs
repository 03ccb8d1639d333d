//! Locations and counters in the console over real HTTP: an admin adds, renames and retires
//! them; names are unique where they must be; bad names and numbers change nothing; other roles
//! are refused; every change is in the audit log.

use crate::helpers::{spawn, ConsoleUser, TestApp};

async fn post(app: &TestApp, user: &ConsoleUser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.console_post(user, path, fields).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn an_admin_sets_up_locations_and_counters() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let store = app.store().await;

    let empty = app.console_get(&admin, "/console/counters").send().await.unwrap().text().await.unwrap();
    assert!(empty.contains("data-testid=\"no-locations\""), "{empty}");

    let (status, page) = post(
        &app,
        &admin,
        "/console/counters/locations",
        &[("name", "  南京路店 "), ("store_id", "SZ_0012")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("The location is added."), "{page}");
    let locations = store.locations().await.unwrap();
    assert_eq!(locations.len(), 1);
    let shop = &locations[0];
    assert_eq!((shop.name.as_str(), shop.wechat_store_id.as_deref()), ("南京路店", Some("SZ_0012")));

    // Two counters; a second "Till 1" at the same location is refused.
    for (name, device) in [("Till 1", "POS-01"), ("Till 2", "")] {
        let (_, page) = post(
            &app,
            &admin,
            "/console/counters",
            &[("location_id", &shop.id), ("name", name), ("device_id", device)],
        )
        .await;
        assert!(page.contains("The counter is added."), "{page}");
    }
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters",
        &[("location_id", &shop.id), ("name", "Till 1"), ("device_id", "")],
    )
    .await;
    assert!(page.contains("That name is taken here already."), "{page}");
    let counters = store.counters_in_use().await.unwrap();
    assert_eq!(
        counters.iter().map(|c| (c.name.as_str(), c.device_id.as_deref())).collect::<Vec<_>>(),
        [("Till 1", Some("POS-01")), ("Till 2", None)]
    );
    let page = app.console_get(&admin, "/console/counters").send().await.unwrap().text().await.unwrap();
    for shown in ["南京路店", "SZ_0012", "Till 1", "POS-01", "Till 2"] {
        assert!(page.contains(shown), "the page shows {shown}");
    }

    // Renaming a counter to a name in use there is refused; to a free one it is done.
    let till_2 = counters.iter().find(|c| c.name == "Till 2").unwrap();
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters/update",
        &[("id", &till_2.id), ("name", "Till 1"), ("device_id", "")],
    )
    .await;
    assert!(page.contains("That name is taken here already."), "{page}");
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters/update",
        &[("id", &till_2.id), ("name", "Express"), ("device_id", "POS-02")],
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    let express = store.counter(&till_2.id).await.unwrap().unwrap();
    assert_eq!((express.name.as_str(), express.device_id.as_deref()), ("Express", Some("POS-02")));

    // A retired counter leaves the list and frees its name; it cannot be retired twice.
    let till_1 = counters.iter().find(|c| c.name == "Till 1").unwrap();
    let (_, page) = post(&app, &admin, "/console/counters/retire", &[("id", &till_1.id)]).await;
    assert!(page.contains("The counter is retired."), "{page}");
    assert!(store.counter(&till_1.id).await.unwrap().unwrap().retired_at.is_some());
    let (_, page) = post(&app, &admin, "/console/counters/retire", &[("id", &till_1.id)]).await;
    assert!(page.contains("is no longer there"), "{page}");
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters",
        &[("location_id", &shop.id), ("name", "Till 1"), ("device_id", "")],
    )
    .await;
    assert!(page.contains("The counter is added."), "{page}");
    assert_eq!(store.counters_in_use().await.unwrap().len(), 2);

    // A second location may have a "Till 1" of its own, but not the first location's name.
    let (_, page) =
        post(&app, &admin, "/console/counters/locations", &[("name", "南京路店"), ("store_id", "")]).await;
    assert!(page.contains("That name is taken here already."), "{page}");
    let (_, page) =
        post(&app, &admin, "/console/counters/locations", &[("name", "Airport"), ("store_id", "")]).await;
    assert!(page.contains("The location is added."), "{page}");
    let airport = store.locations().await.unwrap().into_iter().find(|l| l.name == "Airport").unwrap();
    assert_eq!(airport.wechat_store_id, None);
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters",
        &[("location_id", &airport.id), ("name", "Till 1"), ("device_id", "")],
    )
    .await;
    assert!(page.contains("The counter is added."), "{page}");
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters/locations/update",
        &[("id", &airport.id), ("name", "南京路店"), ("store_id", "")],
    )
    .await;
    assert!(page.contains("That name is taken here already."), "{page}");
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters/locations/update",
        &[("id", &airport.id), ("name", "Airport T2"), ("store_id", "PVG-T2")],
    )
    .await;
    assert!(page.contains("Saved."), "{page}");
    let airport = store.location(&airport.id).await.unwrap().unwrap();
    assert_eq!((airport.name.as_str(), airport.wechat_store_id.as_deref()), ("Airport T2", Some("PVG-T2")));

    let actions: Vec<String> =
        store.audit_log(100).await.unwrap().into_iter().rev().map(|entry| entry.action).collect();
    let ours: Vec<&str> = actions
        .iter()
        .map(String::as_str)
        .filter(|a| a.starts_with("location.") || a.starts_with("counter."))
        .collect();
    assert_eq!(
        ours,
        [
            "location.create",
            "counter.create",
            "counter.create",
            "counter.update",
            "counter.retire",
            "counter.create",
            "location.create",
            "counter.create",
            "location.update"
        ]
    );
}

#[tokio::test]
async fn bad_names_and_numbers_change_nothing() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let store = app.store().await;
    let (long_name, long_number) = ("店".repeat(65), "9".repeat(33));
    let refusals = [
        (vec![("name", " "), ("store_id", "")], "A name is needed."),
        (vec![("name", &long_name), ("store_id", "")], "A name has at most 64 characters."),
        (vec![("name", "Shop\u{202E}1"), ("store_id", "")], "characters that do not show"),
        (vec![("name", "Shop"), ("store_id", "shop 1")], "A shop or device number has up to 32"),
        (vec![("name", "Shop"), ("store_id", &long_number)], "A shop or device number has up to 32"),
    ];
    for (fields, message) in refusals {
        let (status, page) = post(&app, &admin, "/console/counters/locations", &fields).await;
        assert_eq!(status, 200);
        assert!(page.contains(message), "{message}: {page}");
    }
    assert!(store.locations().await.unwrap().is_empty());
    // A counter at a location that is not there.
    let (_, page) = post(
        &app,
        &admin,
        "/console/counters",
        &[("location_id", "loc_none"), ("name", "Till"), ("device_id", "")],
    )
    .await;
    assert!(page.contains("is no longer there"), "{page}");
    assert!(store.counters_in_use().await.unwrap().is_empty());
    // Names are text, never markup.
    let (_, page) =
        post(&app, &admin, "/console/counters/locations", &[("name", "<b>Shop</b>"), ("store_id", "")]).await;
    assert!(page.contains("&lt;b&gt;Shop&lt;/b&gt;") && !page.contains("<b>Shop</b>"), "{page}");
}

#[tokio::test]
async fn only_admins_manage_locations_and_counters() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let (_, _) =
        post(&app, &admin, "/console/counters/locations", &[("name", "Shop"), ("store_id", "")]).await;
    let store = app.store().await;
    let shop = store.locations().await.unwrap().remove(0);
    for role in ["operator", "viewer"] {
        let member = app.console_user(role).await;
        assert_eq!(app.console_get(&member, "/console/counters").send().await.unwrap().status(), 403);
        let overview = app.console_get(&member, "/console").send().await.unwrap().text().await.unwrap();
        assert!(!overview.contains("href=\"/console/counters\""), "{role} sees no link to the page");
        for (path, fields) in [
            ("/console/counters/locations", vec![("name", "Other"), ("store_id", "")]),
            (
                "/console/counters/locations/update",
                vec![("id", shop.id.as_str()), ("name", "Renamed"), ("store_id", "")],
            ),
            (
                "/console/counters",
                vec![("location_id", shop.id.as_str()), ("name", "Till"), ("device_id", "")],
            ),
        ] {
            let (status, _) = post(&app, &member, path, &fields).await;
            assert_eq!(status, 403, "{role} {path}");
        }
    }
    assert_eq!(store.locations().await.unwrap(), vec![shop]);
    assert!(store.counters_in_use().await.unwrap().is_empty());
    // A form without the member's token changes nothing either.
    let forged = app
        .client
        .post(app.url("/console/counters/locations"))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", "forged"), ("name", "Forged"), ("store_id", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(store.locations().await.unwrap().len(), 1);
}
