"""Writes bench/data/rating_eval.jsonl (the labelled scenes) from the readable blocks below.

Edit a scene here, then run ``python bench/data/build_rating_eval.py``; ``bench/analyze_eval.py``
and the unit test read the jsonl. Scenes added with ``hadd`` are the holdout (written after the
lexicons were tuned).
"""
import json
from pathlib import Path

OUT = Path(__file__).with_name("rating_eval.jsonl")
ITEMS = []
def add(id, lang, expect, text, age=None, note="", optional=()):
    ITEMS.append({"id": id, "lang": lang, "expect": expect, "optional": list(optional), "age": age, "note": note, "text": text.strip("\n")})

# ---------------- clean ----------------
add("ru-clean-kids-1", "ru", {}, """
ИНТ. ДЕТСКАЯ КОМНАТА — УТРО
Солнце светит в окно. Маша, шести лет, собирает кубики в большую башню.
МАША
Мама, смотри, какой у меня замок!
МАМА
(улыбается)
Какая красота. А кто в нём будет жить?
МАША
Принцесса и её котёнок. И ещё ёжик.
Мама садится рядом на ковёр, они вместе строят мост из кубиков.
""", age="0+")
add("ru-clean-kids-2", "ru", {}, """
НАТ. ПАРК — ДЕНЬ
Петя и дедушка кормят уток у пруда. Дедушка достаёт из кармана булку.
ДЕДУШКА
Только не бросай всё сразу, пусть каждой достанется.
ПЕТЯ
А утята тоже любят хлеб?
ДЕДУШКА
Любят. Но больше всего они любят, когда их не пугают.
Петя тихо садится на скамейку и смотрит, как утята плывут за мамой-уткой.
""", age="0+")
add("ru-clean-homonyms-1", "ru", {}, """
ИНТ. МОНТАЖНАЯ — ВЕЧЕР
Режиссёр просматривает материал. На экране крупным планом лицо героини, потом общий план.
РЕЖИССЁР
Этот план оставим. А тут добавим музыку, и будет класс.
МОНТАЖЁР
Роман Петрович просил ещё раз посмотреть финал.
Часы бьют восемь. Режиссёр делает кислую мину и пьёт чай с лимоном.
РЕЖИССЁР
Ладно, до завтра. Соль в том, что сцена должна дышать.
""", age="0+", note="план, класс, роман, мина, соль, бьют часы")
add("ru-clean-homonyms-2", "ru", {}, """
НАТ. ЛЕС — ДЕНЬ
Саша и Оля собирают грибы. Под ногами трава, на поляне цветёт мак.
ОЛЯ
Смотри, какой ствол у этой сосны — втроём не обхватишь!
САША
А вот и белый! Клади в корзину, потом засолим.
Они выходят к реке. Вдалеке слышен гудок поезда. Саша фотографирует закат.
""", age="0+", note="грибы, трава, мак, ствол")
add("ru-clean-chekhov-1", "ru", {}, """
ДЕЙСТВИЕ ПЕРВОЕ
Гостиная в усадьбе. Вечер. На столе самовар. Ольга Сергеевна вышивает, Андрей читает газету.
ОЛЬГА СЕРГЕЕВНА. Опять дожди. Сад совсем зарос, а садовника всё нет.
АНДРЕЙ. Завтра поеду в город, найду кого-нибудь.
ОЛЬГА СЕРГЕЕВНА. Ты каждую неделю это говоришь. (Вздыхает.) Налей мне чаю, пожалуйста.
АНДРЕЙ (наливает). Вот. С вареньем?
ОЛЬГА СЕРГЕЕВНА. С вишнёвым. Помнишь, как мама варила его в саду, в медном тазу?
АНДРЕЙ. Помню. Мы таскали пенки и обжигали пальцы.
Пауза. Слышно, как где-то далеко играют на рояле.
""", age="0+")
add("en-clean-kids-1", "en", {}, """
INT. KITCHEN - MORNING
Lily, 7, stands on a chair next to her dad, stirring pancake batter.
LILY
Can we put blueberries in them?
DAD
Only if you promise to share with your brother.
LILY
(giggling)
Fine. But I get the biggest one.
Dad flips a pancake. It lands perfectly. Lily claps.
""", age="0+")
add("en-clean-homonyms-1", "en", {}, """
INT. HIGH SCHOOL GYM - DAY
WIDE SHOT of the basketball court. Coach Miller blows his whistle.
COACH MILLER
Okay, take five. Grab a glass of water and let's go over the plays.
A beat. Tom wipes his face with a towel.
TOM
Coach, can we fix the schedule for the trip to Denver?
COACH MILLER
We'll see. The bus company has to confirm. Now get your head in the game.
CLOSE ON the scoreboard: HOME 42, GUESTS 40.
""", age="0+", note="high school, shot, glass of water, beat, fix, trip")
add("en-clean-homonyms-2", "en", {}, """
INT. OFFICE - DAY
Anna is killing it in the meeting. Slides, charts, applause.
BOSS
That presentation was dynamite. You nailed it.
ANNA
Thanks. I was dying to show you the numbers.
BOSS
Let's toast to that at lunch. The crew from marketing is buying.
She smiles, packs her laptop and takes the elevator down.
""", age="0+", note="killing it, dynamite, dying to, toast, crew")
add("en-clean-play-1", "en", {}, """
ACT ONE
SCENE 1
A drawing room in a country house. Late afternoon. MARGARET sits by the window with a book; HENRY enters with the post.
HENRY. A letter from Edward. He writes that the harvest was better than anyone hoped.
MARGARET. Then he will come for Christmas after all.
HENRY. He says he will bring the children and the dog.
MARGARET. (laughing) Heaven help the carpets.
HENRY. I shall tell Mrs. Pike to air the blue room.
""", age="0+")

# ---------------- violence ----------------
add("ru-violence-mild-1", "ru", {"violence": "mild"}, """
НАТ. ШКОЛЬНЫЙ ДВОР — ДЕНЬ
Двое старшеклассников толкаются у забора. Один замахивается, но учитель их разнимает.
УЧИТЕЛЬ
А ну разошлись! Драку мне тут устроили.
Парни расходятся, бурча под нос.
""", note="minor involved: school")
add("ru-violence-moderate-1", "ru", {"violence": "moderate"}, """
ИНТ. ПОДЪЕЗД — НОЧЬ
Гена прижимает Костю к стене и бьёт кулаком в живот. Костя сгибается. Гена бьёт ещё раз, потом ещё.
ГЕНА
Где деньги? Я тебя урою, понял?
Костя падает. Гена пинает его и уходит, хлопнув дверью подъезда.
""")
add("ru-violence-severe-1", "ru", {"violence": "severe", "gore": "severe"}, optional=["crime"], text= """
ИНТ. ЗАБРОШЕННЫЙ ЦЕХ — НОЧЬ
Бандиты избивают Лёху ногами. Один достаёт нож и медленно режет ему лицо. Крупным планом — кровь хлещет на бетон, Лёха хрипит и захлёбывается кровью.
ГЛАВАРЬ
Добей его.
Выстрел в голову. Мозги на стене. Тело дёргается в конвульсиях и затихает в луже крови.
""", age="18+")
add("ru-violence-condemned-1", "ru", {"violence": "mild"}, """
ИНТ. КАБИНЕТ СЛЕДОВАТЕЛЯ — ДЕНЬ
Следователь раскладывает фотографии. Подросток сидит, опустив голову.
СЛЕДОВАТЕЛЬ
Ты ударил его. Теперь он в больнице. Ты понимаешь, что это суд?
ПОДРОСТОК
(плачет)
Я не хотел... Мне стыдно.
""", note="condemned + consequences; minor")
add("en-violence-mild-1", "en", {"violence": "mild"}, """
EXT. PLAYGROUND - DAY
Two boys shove each other over a football. One throws a punch that misses. A teacher runs over.
TEACHER
Hey! Break it up, both of you. Apologize.
The boys mumble apologies and walk off in opposite directions.
""")
add("en-violence-moderate-1", "en", {"violence": "moderate"}, """
INT. BAR BACK ROOM - NIGHT
Vince grabs Danny by the collar and punches him in the face. Danny stumbles. Vince punches him again, then kicks him in the ribs.
VINCE
Next time you're late with the money, I'll kill you.
Danny coughs, holding his side. Vince walks out.
""")
add("en-violence-severe-1", "en", {"violence": "severe", "gore": "severe"}, """
INT. WAREHOUSE - NIGHT
The killer stabs Mark again and again. CLOSE-UP: blood gushing from the wound, pooling on the concrete. Mark chokes on blood, writhing.
The killer slits his throat. Blood splatter across the wall. He drags the corpse into the freezer, leaving a trail of blood.
""", age="18+")
add("en-violence-offscreen-1", "en", {"violence": "mild"}, """
EXT. FARMHOUSE - NIGHT
We stay on the porch. From inside, OFF-SCREEN, a single gunshot. The dog barks in the distance.
Sarah freezes on the steps, then runs toward the road.
""")
add("ru-war-1", "ru", {"violence": "moderate"}, """
НАТ. ОКОП — РАССВЕТ
Артобстрел. Земля дрожит. Солдаты прижимаются к стенке окопа. Рядом взрывается снаряд.
КОМАНДИР
Все в блиндаж! Живо!
Рядовой Сомов тащит раненого товарища. Пули свистят над головой.
""")

# ---------------- gore ----------------
add("ru-gore-severe-1", "ru", {"gore": "severe"}, optional=["death"], text= """
ИНТ. МОРГ — НОЧЬ
Патологоанатом откидывает простыню. Изуродованный труп без головы, внутренности вывалились наружу. Крупным планом — отрубленные пальцы в лотке.
ПАТОЛОГОАНАТОМ
Расчленили ещё живым. Видите, как сочится кровь из ран?
""", age="18+")
add("en-gore-severe-1", "en", {"gore": "severe"}, """
INT. CABIN - NIGHT
The dismembered corpse lies across the table. Entrails spill onto the floor. CLOSE-UP on the severed head, eyes still open, blood oozing from the neck.
""", age="18+")

# ---------------- sexual violence ----------------
add("ru-sexviolence-1", "ru", {"sexual_violence": "severe"}, """
ИНТ. ПОДВАЛ — НОЧЬ
Он затыкает ей рот и срывает одежду. Она вырывается. Изнасилование длится, камера не отворачивается.
""", age="18+")
add("en-sexviolence-condemned-1", "en", {"sexual_violence": "mild"}, """
INT. COURTROOM - DAY
The prosecutor faces the jury.
PROSECUTOR
On the night of June third, the defendant raped a nineteen-year-old woman. He will answer for it.
The defendant looks down. The woman's mother weeps in the gallery.
""", note="mentioned, condemned; default catalog still 18+")

# ---------------- sex ----------------
add("ru-sex-kiss-1", "ru", {}, optional=["sex"], text= """
НАТ. НАБЕРЕЖНАЯ — ВЕЧЕР
Катя и Дима стоят у парапета. Он берёт её за руку. Она смеётся и целует его в щёку.
КАТЯ
Это было лучшее свидание в моей жизни.
""")
add("ru-sex-explicit-1", "ru", {"sex": "severe"}, """
ИНТ. СПАЛЬНЯ — НОЧЬ
Они срывают друг с друга одежду и падают на кровать. Обнажённая Лена садится на него сверху. Секс, стоны, крупным планом её грудь. Он кончает.
""", age="18+")
add("en-sex-explicit-1", "en", {"sex": "severe"}, """
INT. MOTEL ROOM - NIGHT
They tear each other's clothes off. Naked, she pushes him onto the bed. They have sex, loudly. CLOSE-UP on her breasts, his hands between her legs. She reaches orgasm.
""", age="18+")
add("en-sex-innuendo-1", "en", {"sex": "mild"}, """
INT. OFFICE PARTY - NIGHT
Jenna leans toward Mike with a wink.
JENNA
You look sexy in that suit. Maybe we should get out of here.
MIKE
(flustered)
I... should find my coat.
""")
add("ru-sex-minor-1", "ru", {"sex": "severe"}, optional=["minors"], text= """
ИНТ. ШКОЛЬНЫЙ ТУАЛЕТ — ДЕНЬ
Четырнадцатилетняя Вика раздевается перед телефоном. Одноклассник снимает её голой и обещает выложить видео в сеть.
""", age="18+")

# ---------------- drugs ----------------
add("ru-drugs-mention-1", "ru", {"drugs": "mild"}, """
ИНТ. КУХНЯ — ВЕЧЕР
Мать читает газету.
МАТЬ
Пишут, у соседей сын попался с наркотиками. Такой тихий был мальчик.
ОТЕЦ
Жалко родителей.
""", note="episodic mention")
add("ru-drugs-use-1", "ru", {"drugs": "moderate"}, """
ИНТ. ПРИТОН — НОЧЬ
Стас перетягивает руку жгутом, набирает героин в шприц и колется. Закатывает глаза. Рядом Лёша нюхает кокаин с зеркала.
""")
add("ru-drugs-promo-1", "ru", {"drugs": "severe"}, """
ИНТ. КЛУБ — НОЧЬ
Макс протягивает Насте таблетку экстази.
МАКС
Попробуй, это круто! Лучший кайф в жизни, и ничего страшного не будет.
НАСТЯ
Давай!
Она глотает таблетку и смеётся.
""", age="18+")
add("ru-drugs-condemned-1", "ru", {"drugs": "moderate"}, optional=["death"], text= """
ИНТ. БОЛЬНИЦА — РЕАНИМАЦИЯ — НОЧЬ
Мать сидит у кровати Антона. Врач снимает маску.
ВРАЧ
Передозировка героина. Ещё бы десять минут — и мы бы его не спасли.
МАТЬ
(плачет)
Он же обещал, что завязал с наркотиками...
""", note="condemned: not promotion, below 18+")
add("ru-drugs-negated-1", "ru", {"drugs": "mild"}, """
ИНТ. КАБИНЕТ ДИРЕКТОРА — ДЕНЬ
ДИРЕКТОР
Ты курил траву за гаражами?
ДЕНИС
Нет! Я никогда не пробовал наркотики. И не курю вообще.
""", age="12+", note="asked about, then denied: the question is a mention")
add("en-drugs-use-1", "en", {"drugs": "moderate"}, """
INT. BATHROOM - NIGHT
Kyle cuts two lines of cocaine on the mirror and snorts them. His pupils dilate. He wipes his nose and laughs.
""")
add("en-drugs-promo-1", "en", {"drugs": "severe"}, """
INT. DORM ROOM - NIGHT
Jake rolls a joint and offers it to Emma.
JAKE
Try it. Everyone does it, it's no big deal. Best feeling ever.
EMMA
(taking it)
Okay, just once.
They smoke weed and giggle.
""", age="18+")
add("en-drugs-condemned-1", "en", {"drugs": "moderate"}, """
INT. REHAB CENTER - DAY
Tom sits in a circle of chairs, hands shaking.
TOM
Heroin took everything. My job, my marriage. I overdosed twice. I'm ashamed of who I was.
COUNSELOR
And now you're sober. That's what counts.
""", note="condemned: below 18+")
add("en-drugs-negated-1", "en", {"drugs": "mild"}, """
INT. SCHOOL OFFICE - DAY
PRINCIPAL
Were you smoking weed behind the gym?
SAM
No, sir. I've never touched a drug in my life.
""", age="12+", note="asked about, then denied")

# ---------------- alcohol ----------------
add("ru-alcohol-mild-1", "ru", {"alcohol": "mild"}, """
ИНТ. РЕСТОРАН — ВЕЧЕР
Юбилей. Отец поднимает бокал шампанского.
ОТЕЦ
За маму! За тридцать лет вместе!
Все чокаются и аплодируют.
""")
add("ru-alcohol-severe-1", "ru", {"alcohol": "severe"}, """
ИНТ. ГАРАЖ — НОЧЬ
Мужики пьют водку из горла. Витёк уже пьяный в стельку, его рвёт в углу.
ВИТЁК
Наливай ещё! Бухать так бухать!
Серый открывает вторую бутылку водки. Они напиваются до беспамятства.
""")
add("ru-alcohol-minor-1", "ru", {"alcohol": "moderate"}, """
НАТ. ЗА ШКОЛОЙ — ВЕЧЕР
Трое восьмиклассников прячутся за гаражами. Один достаёт бутылку пива, они пьют по очереди.
""", note="minor involved")
add("en-alcohol-mild-1", "en", {"alcohol": "mild"}, """
INT. PUB - EVENING
Two old friends share a pint of beer by the fire.
GEORGE
To the old days.
They clink glasses.
""")
add("en-alcohol-severe-1", "en", {"alcohol": "severe"}, """
INT. APARTMENT - NIGHT
Ray is blackout drunk, chugging vodka straight from the bottle. Empty bottles of whiskey everywhere.
RAY
One more shot! Come on, let's get wasted!
He passes out drunk on the floor.
""")
add("en-alcohol-negated-1", "en", {}, """
INT. DINER - MORNING
WAITRESS
Coffee?
FRANK
Please. I don't drink anymore, not even on holidays.
""", age="0+")

# ---------------- tobacco ----------------
add("ru-tobacco-mild-1", "ru", {"tobacco": "mild"}, """
НАТ. КРЫЛЬЦО — ВЕЧЕР
Старик курит трубку и смотрит на закат.
""")
add("ru-tobacco-minor-1", "ru", {"tobacco": "moderate"}, """
НАТ. ДВОР — ДЕНЬ
Тринадцатилетний Кирилл курит сигарету за углом и пускает дым кольцами. Друзья смотрят с завистью.
""")
add("ru-tobacco-negated-1", "ru", {"tobacco": "mild"}, """
ИНТ. ОФИС — ДЕНЬ
— Ты куришь?
— Нет, я не курю. И вам не советую.
""", age="12+", note="the question mentions smoking; the answer is negated")
add("en-tobacco-mild-1", "en", {"tobacco": "mild"}, """
EXT. ROOFTOP - NIGHT
Detective Hale lights a cigarette and stares at the city below.
""")
add("en-tobacco-promo-1", "en", {"tobacco": "severe"}, """
INT. SCHOOL BATHROOM - DAY
Madison, 15, hands a vape to her friend.
MADISON
Try it, it's so cool. Everybody vapes.
The friend takes a long drag and coughs.
""")

# ---------------- suicide / self-harm ----------------
add("ru-suicide-ideation-1", "ru", {"suicide": "mild"}, """
ИНТ. КОМНАТА ОЛИ — НОЧЬ
Оля пишет в дневнике.
ОЛЯ (ЗК)
Иногда мне кажется, что я никому не нужна. Что всем будет лучше без меня.
""")
add("ru-suicide-act-1", "ru", {"suicide": "severe"}, """
НАТ. КРЫША МНОГОЭТАЖКИ — НОЧЬ
Игорь стоит на краю. В кармане предсмертная записка. Он делает шаг вперёд и прыгает с крыши.
""", age="18+")
add("en-suicide-condemned-1", "en", {"suicide": "mild"}, """
INT. THERAPIST'S OFFICE - DAY
JULIA
After my brother's suicide I thought about it too. But the hotline saved me. I got help.
THERAPIST
Reaching out was the bravest thing you could do.
""")
add("en-selfharm-1", "en", {"suicide": "severe"}, """
INT. BATHROOM - NIGHT
Chloe, 16, sits on the floor with a razor blade. Fresh cuts on her wrist. She cuts herself again, slowly.
""", age="18+")

# ---------------- obscene ----------------
add("ru-obscene-1", "ru", {"obscene": "mild"}, """
ИНТ. МАШИНА — ДЕНЬ
Пробка. Водитель бьёт по рулю.
ВОДИТЕЛЬ
Да ёб твою мать, сколько можно стоять!
""", age="18+")
add("ru-obscene-obf-1", "ru", {"obscene": "mild"}, """
ИНТ. ЧАТ — НОЧЬ
На экране сообщение: «ну ты и п*здабол, х@й тебе, а не деньги».
""", age="18+", note="obfuscated")
add("ru-obscene-obf-2", "ru", {"obscene": "mild"}, """
ИНТ. РАЗДЕВАЛКА — ВЕЧЕР
ТРЕНЕР
Б л я, ну кто так пасует? Е.б.а.т.ь, вы меня достали.
""", age="18+", note="split letters")
add("ru-obscene-obf-3", "ru", {"obscene": "mild", "language": "mild"}, """
ИНТ. КАЗАРМА — НОЧЬ
СЕРЖАНТ
Сука, нахyй вы тут устроили? Бл@дь, отбой был час назад!
""", age="18+", note="latin lookalike")
add("ru-obscene-innocent-1", "ru", {}, optional=["alcohol"], text= """
ИНТ. ПОРТ — ДЕНЬ
Капитан корабля проверяет страховку груза и считает рубли. Небо ясное, корабль колеблется на волнах.
КАПИТАН
Употреблять спиртное на борту запрещено. Застрахуй ящики и зови команду.
""", note="innocent words with obscene letters; спиртное is alcohol though")
add("en-obscene-1", "en", {"obscene": "mild"}, optional=["language"], text= """
INT. CAR - NIGHT
MIKE
What the fuck were you thinking? You fucking idiot!
""", age="18+")
add("ru-obscene-pervasive-1", "ru", {"obscene": "severe"}, """
ИНТ. СТРОЙКА — ДЕНЬ
ПРОРАБ
Бля, опять цемент не привезли! Ёбаный экскаватор, нахуй он тут стоит?
РАБОЧИЙ
Пиздец, а не стройка. Хуйня какая-то.
ПРОРАБ
Заебали, блядь, все.
""", age="18+")

# ---------------- coarse language ----------------
add("ru-language-mild-1", "ru", {}, optional=["language"], note="a single дурак is not swearing (art. 10 p. 4)", text= """
ИНТ. КВАРТИРА — ДЕНЬ
ВАСЯ
Ну ты и дурак! Опять всё сломал.
""")
add("ru-language-moderate-1", "ru", {"language": "moderate"}, """
ИНТ. ОФИС — ДЕНЬ
НАЧАЛЬНИК
Ты идиот, дебил, ничтожество! Сволочь, ты всё завалил, придурок!
""")
add("en-language-mild-1", "en", {"language": "mild"}, """
INT. GARAGE - DAY
JOE
Damn it, the engine's dead again. What a piece of crap.
""")

# ---------------- crime ----------------
add("ru-crime-mild-1", "ru", {"crime": "mild"}, """
ИНТ. МАГАЗИН — ДЕНЬ
Женщина замечает, что у неё украли кошелёк. Охранник качает головой.
ОХРАННИК
Карманник, наверное. Вызовем полицию.
""")
add("ru-crime-moderate-1", "ru", {"crime": "moderate", "violence": "mild"}, """
ИНТ. БАНК — ДЕНЬ
Грабители в масках врываются в зал. Главарь банды машет пистолетом.
ГЛАВАРЬ
Это ограбление! Всем лечь на пол! Деньги в сумку!
Налётчики вскрывают сейф и уносят деньги.
""")
add("ru-crime-approval-1", "ru", {"crime": "severe"}, """
ИНТ. ГАРАЖ — НОЧЬ
КОСТЯН
Воровать не стыдно, пацаны. Законы для лохов. Кто не рискует, тот не пьёт шампанского. Лёгкие деньги!
""", age="18+")
add("en-crime-moderate-1", "en", {"crime": "moderate"}, """
INT. WAREHOUSE - NIGHT
The gang loads stolen TVs into a van. The crime boss counts cash.
CRIME BOSS
Good haul, boys. Next week we rob the jewelry store.
""")
add("en-crime-instructions-1", "en", {"instructions": "severe"}, optional=["drugs"], text= """
INT. BASEMENT LAB - NIGHT
Walter holds up a flask.
WALTER
Listen carefully. This is how you cook meth, step by step. First the pseudoephedrine...
""", age="18+")

# ---------------- gambling ----------------
add("ru-gambling-1", "ru", {"gambling": "moderate"}, """
ИНТ. КАЗИНО — НОЧЬ
Андрей ставит всё на красное. Рулетка крутится. Шарик падает на чёрное. Андрей проиграл всё.
АНДРЕЙ
Ещё раз. Я отыграюсь.
""")
add("en-gambling-1", "en", {"gambling": "moderate"}, """
INT. CASINO - NIGHT
Nick throws the dice at the craps table. The croupier pushes a pile of chips toward him. Jackpot.
NICK
Let it ride!
""")

# ---------------- fear / horror ----------------
add("ru-fear-mild-1", "ru", {"fear": "mild"}, """
ИНТ. ДЕТСКАЯ — НОЧЬ
Ване страшно. Под кроватью что-то шуршит. Он прячется под одеяло.
ВАНЯ
Мама! Там кто-то есть!
Мама включает свет: это просто кот.
""")
add("ru-fear-severe-1", "ru", {"fear": "severe", "gore": "severe"}, """
ИНТ. ЗАБРОШЕННАЯ БОЛЬНИЦА — НОЧЬ
Тьма. Шаги в темноте. Из-за угла выползает чудовище с клыками и когтями. Оно разрывает санитара, брызги крови летят на стену. Аня кричит от ужаса.
""", age="18+")
add("en-fear-moderate-1", "en", {"fear": "moderate"}, """
INT. HAUNTED HOUSE - NIGHT
A ghost drifts through the wall. The lights flicker. Emily screams, terrified, and runs into the darkness. Footsteps behind her.
""")
add("ru-supernatural-1", "ru", {"fear": "mild"}, """
ИНТ. ИЗБА — ВЕЧЕР
Баба-яга варит зелье и шепчет заклинание. Кот на печи щурится.
""", note="fairy tale")

# ---------------- death ----------------
add("ru-death-mild-1", "ru", {"death": "mild"}, """
НАТ. КЛАДБИЩЕ — ДЕНЬ
Похороны бабушки. Маша кладёт цветы на могилу. Папа обнимает её.
""")
add("en-death-mild-1", "en", {"death": "mild"}, """
INT. HOSPITAL ROOM - NIGHT
The old man passes away quietly. His daughter holds his hand and cries.
""")
add("en-disaster-1", "en", {"death": "moderate"}, """
EXT. HIGHWAY - NIGHT
A car crash. The truck slams into the bus. Fire spreads. Rescue workers pull victims from the wreck.
""")

# ---------------- hate ----------------
add("ru-hate-1", "ru", {"hate": "severe"}, """
НАТ. РЫНОК — ДЕНЬ
Скинхеды окружают торговца.
СКИНХЕД
Понаехали тут, чурки! Россия для русских! Убирайтесь в свою страну!
""", age="18+")
add("en-hate-condemned-1", "en", {"hate": "mild"}, """
INT. CLASSROOM - DAY
TEACHER
In 1960 racism was the law in much of the South. Segregation was wrong, and brave people fought it.
""")

# ---------------- extremism ----------------
add("ru-extremism-1", "ru", {"extremism": "severe"}, optional=["violence", "death"], text= """
ИНТ. ПОДПОЛЬНАЯ ЯЧЕЙКА — НОЧЬ
Вербовщик раздаёт пояса шахида.
ВЕРБОВЩИК
Завтра теракт. Смерть неверным! Священная война начинается.
""", age="18+")
add("en-extremism-1", "en", {"extremism": "severe"}, optional=["violence"], text= """
INT. SAFE HOUSE - NIGHT
The terrorist straps on a suicide vest.
TERRORIST
Tomorrow we bomb the station. Take up arms, brothers.
""", age="18+")

# ---------------- family ----------------
add("ru-family-denial-1", "ru", {"family": "moderate"}, """
ИНТ. КАФЕ — ДЕНЬ
ЖАННА
Семья — это пережиток. Дети не нужны, дети — обуза. Брак устарел, я чайлдфри и горжусь этим.
""")
add("ru-family-conflict-1", "ru", {"family": "mild"}, optional=["violence"], text= """
ИНТ. КВАРТИРА — ВЕЧЕР
Семейный скандал. Муж и жена орут друг на друга. Жена бьёт тарелку об пол.
ЖЕНА
Я подаю на развод!
""", note="family conflict: domestic category")

# ---------------- minors ----------------
add("ru-minors-victim-1", "ru", {"minors": "severe"}, """
ИНТ. РЕДАКЦИЯ — ДЕНЬ
ЖУРНАЛИСТ
Пишем всё: имя пострадавшей девочки, адрес школы, фото пострадавшего ребёнка. Читатели хотят подробностей.
""", age="18+")
add("en-trafficking-1", "en", {"minors": "severe"}, """
INT. CONTAINER - NIGHT
Children huddle in the dark. The trafficker counts them.
TRAFFICKER
Twelve kids. Child labor pays well across the border.
""", age="18+")

# ---------------- labelling ----------------
add("ru-labelling-1", "ru", {"labelling": "mild"}, """
ИНТ. СТУДИЯ — ДЕНЬ
ВЕДУЩИЙ
Сегодня у нас в гостях журналист, признанный иностранным агентом.
""")

# ---------------- negated / mixed ----------------
add("ru-negated-mixed-1", "ru", {}, """
ИНТ. КУХНЯ — ДЕНЬ
БАБУШКА
Внучек мой не пьёт, не курит, наркотиков никогда не пробовал. Золото, а не ребёнок.
""", age="0+")
add("en-negated-mixed-1", "en", {}, """
INT. LIVING ROOM - DAY
MOM
Our son doesn't drink, doesn't smoke, and he's never taken drugs. We're so proud.
""", age="0+")
add("ru-animals-1", "ru", {"violence": "moderate", "alcohol": "mild"}, """
НАТ. ДЕРЕВНЯ — ДЕНЬ
Пьяный сосед пинает собаку и бьёт её палкой. Собака скулит.
""", note="cruelty to animals + alcohol")
add("en-threat-1", "en", {"violence": "mild"}, """
INT. PHONE BOOTH - NIGHT
KIDNAPPER (V.O.)
If you call the police, you'll never see your daughter again. I will kill her.
""", note="threat; minor mention")

add("ru-negated-2", "ru", {}, """
ИНТ. ПРИЁМНАЯ ВРАЧА — ДЕНЬ
ВРАЧ
Курите? Алкоголь?
ПАЦИЕНТ
Не курю и не пью уже десять лет. Даже шампанского на Новый год не пью.
""", optional=["tobacco", "alcohol"], note="the doctor's question is a mention; the answers are negated")
add("en-negated-2", "en", {}, """
INT. JOB INTERVIEW - DAY
Maria folds her hands.
MARIA
I don't smoke, I don't gamble, and I have never used drugs. My record is clean.
""", age="0+")
add("ru-negated-3", "ru", {}, """
ИНТ. КЛАСС — ДЕНЬ
УЧИТЕЛЬНИЦА
В нашем классе никто не курит и не ругается. Мы никогда не деремся.
""", age="0+")

# ================= HOLDOUT: written after the engine was tuned, never tuned on =================
H = "holdout"
def hadd(id, lang, expect, text, age=None, note="", optional=()):
    ITEMS.append({"id": id, "split": H, "lang": lang, "expect": expect, "optional": list(optional), "age": age,
                  "note": note, "text": text.strip("\n")})

hadd("h-ru-play-clean-1", "ru", {}, """
ЯВЛЕНИЕ ВТОРОЕ
Те же и Лопахин.
ЛОПАХИН. Поезд пришёл, слава богу. Который час?
ДУНЯША. Скоро два. (Тушит свечу.) Уже светло.
ЛОПАХИН. На сколько же это опоздал поезд? Часа на два, по крайней мере. (Зевает и потягивается.) Я-то хорош, какого дурака свалял! Нарочно приехал сюда, чтобы на станции встретить, и вдруг проспал... Сидя уснул. Досада... Хоть бы ты меня разбудила.
ДУНЯША. Я думала, что вы уехали. (Прислушивается.) Вот, кажется, уже едут.
""", optional=["language"], note="дурака свалял: idiom")
hadd("h-ru-play-drink-1", "ru", {"alcohol": "mild"}, """
ДЕЙСТВИЕ ВТОРОЕ
Столовая. Чебутыкин, Вершинин, Тузенбах за столом. На столе графин с водкой и закуска.
ЧЕБУТЫКИН (наливает себе рюмку водки). Выпьем, господа, за здоровье именинницы.
ВЕРШИНИН. С удовольствием. (Пьёт.)
ТУЗЕНБАХ. Я не пью, мне нельзя. Разве что чаю.
""")
hadd("h-ru-play-suicide-1", "ru", {"suicide": "moderate", "violence": "mild"}, """
ДЕЙСТВИЕ ЧЕТВЁРТОЕ
За сценой выстрел. Все вздрагивают.
АРКАДИНА (испуганно). Что такое?
ДОРН. Ничего. Это, должно быть, в моей походной аптеке что-нибудь лопнуло. (Уходит и через полминуты возвращается.) Так и есть. Лопнула склянка с эфиром.
(Тихо Тригорину.) Уведите отсюда куда-нибудь Ирину Николаевну. Дело в том, что Константин Гаврилович застрелился...
""", optional=["death"])
hadd("h-ru-crime-1", "ru", {"crime": "moderate", "violence": "moderate"}, """
14. НАТ. ПУСТЫРЬ ЗА ГАРАЖАМИ — НОЧЬ
Чёрный джип. Двое бандитов вытаскивают из багажника связанного коммерсанта. Старший, Бес, поигрывает пистолетом.
БЕС
Ты деньги брал? Брал. Отдавать кто будет?
КОММЕРСАНТ
Я всё верну, клянусь, дайте неделю...
Бес бьёт его рукояткой пистолета по лицу. Коммерсант падает на колени.
БЕС
Неделю. Потом закопаем тебя здесь же.
""", optional=["gore"])
hadd("h-ru-crime-2", "ru", {"crime": "mild"}, """
22. ИНТ. ОТДЕЛ ПОЛИЦИИ — ДЕНЬ
Следователь Кравцова листает дело.
КРАВЦОВА
Мошенник со стажем. Три судимости, все за аферы с квартирами. Обманывал пенсионеров.
ОПЕРАТИВНИК
Будем брать?
КРАВЦОВА
Будем. И на этот раз он сядет надолго.
""")
hadd("h-ru-drugs-1", "ru", {"drugs": "severe"}, """
31. ИНТ. КВАРТИРА ДИЛЕРА — НОЧЬ
Грязная кухня. Вадик раскладывает по пакетикам белый порошок, взвешивает на электронных весах. Его подруга Ира лежит на диване под кайфом.
ВАДИК
Мефедрон — это будущее. Все берут, все довольны. Копейки вкладываешь, миллион снимаешь.
ИРА
(смеётся)
Мне ещё дорожку, Вадик...
Вадик высыпает ей дорожку на стол. Ира нюхает и откидывается на спинку.
""")
hadd("h-ru-kids-1", "ru", {}, """
1. НАТ. ДЕРЕВНЯ — ЛЕТО — ДЕНЬ
Дети бегут к речке. Лёва, девяти лет, тащит надувной круг. За ним семенит младшая сестрёнка Соня.
СОНЯ
Лёва, подожди! Я тоже хочу купаться!
ЛЁВА
Только у берега, поняла? А то бабушка заругает.
Они плещутся на мелководье. На берегу бабушка раскладывает на полотенце пирожки с капустой.
БАБУШКА
Обедать! Кто последний — тот моет посуду!
""", age="0+")
hadd("h-ru-kids-2", "ru", {"fear": "mild"}, """
5. ИНТ. ЧЕРДАК — ВЕЧЕР
Соня и Лёва поднимаются по скрипучей лестнице. Темно. Что-то шуршит в углу.
СОНЯ
(шёпотом)
Лёва, мне страшно. Вдруг там привидение?
Лёва светит фонариком. Из коробки выпрыгивает котёнок. Дети смеются.
""")
hadd("h-ru-obscene-1", "ru", {"obscene": "moderate", "language": "mild"}, """
40. ИНТ. РАЗДЕВАЛКА ХОККЕЙНОЙ КОМАНДЫ — ВЕЧЕР
ТРЕНЕР
Вы что творите, мать вашу? Проиграть этим уродам! Да вы охуели совсем! Ещё одна такая игра — и всех нахер из команды, блядь!
Игроки молчат, опустив головы.
""", optional=["family"])
hadd("h-ru-obscene-2", "ru", {"obscene": "mild"}, """
3. НАТ. ОСТАНОВКА — УТРО
Автобус проезжает мимо. Гоша бежит за ним, машет руками.
ГОША
Ну ёпт! Ну п@здец, опять опоздаю!
""", age="18+")
hadd("h-ru-sex-1", "ru", {"sex": "moderate"}, """
18. ИНТ. ГОСТИНИЧНЫЙ НОМЕР — НОЧЬ
Марина и Олег целуются у двери. Он расстёгивает её платье, оно падает на пол. Они падают на кровать. Затемнение.
""")
hadd("h-ru-war-1", "ru", {"violence": "severe", "gore": "moderate"}, """
7. НАТ. РАЗРУШЕННАЯ ДЕРЕВНЯ — ДЕНЬ
Бомбёжка. Горят дома. Солдаты бегут через огород. Рядом разрывается снаряд, рядовому Ковалю отрывает ногу. Он кричит, вокруг кровь. Санитар перетягивает ему ногу ремнём.
КОВАЛЬ
Мама... мамочка...
""", optional=["death", "fear"])
hadd("h-ru-family-1", "ru", {"family": "mild"}, """
9. ИНТ. КУХНЯ — ВЕЧЕР
Мать и взрослая дочь ссорятся из-за квартиры.
ДОЧЬ
Ты всю жизнь мной командуешь! Я ухожу из дома, и не звони мне!
МАТЬ
Иди! Иди! Только потом не приползай!
Дочь хлопает дверью. Мать плачет у окна.
""")
hadd("h-ru-gambling-1", "ru", {"gambling": "moderate"}, """
12. ИНТ. БУКМЕКЕРСКАЯ КОНТОРА — ДЕНЬ
Толик ставит последние деньги на матч. Смотрит на табло. Команда проигрывает.
ТОЛИК
Ну же, ну! Я же всё поставил...
Финальный свисток. Толик рвёт билет со ставкой и бьёт кулаком по стойке.
""", optional=["violence"])
hadd("h-ru-selfharm-1", "ru", {"suicide": "moderate"}, """
25. ИНТ. ВАННАЯ — НОЧЬ
Лиза, шестнадцати лет, сидит на краю ванны. Закатывает рукав: на руке свежие порезы. Достаёт лезвие. Стук в дверь.
МАМА (ЗК)
Лиза, у тебя всё хорошо?
Лиза прячет лезвие в карман.
""", optional=["violence"])
hadd("h-ru-hate-1", "ru", {"hate": "moderate"}, """
33. НАТ. СТРОЙКА — ДЕНЬ
Прораб орёт на рабочего-таджика.
ПРОРАБ
Ты, чурка, понимаешь по-русски? Понаехали, работать не умеете!
Рабочий молча поднимает мешок с цементом.
""", optional=["language"])
hadd("h-ru-smoking-1", "ru", {"tobacco": "mild"}, """
8. НАТ. БАЛКОН — НОЧЬ
Отец курит, стряхивая пепел в банку из-под кофе. Выходит сын.
СЫН
Пап, ты же бросал.
ОТЕЦ
Бросал. Опять начал. Не говори маме.
""")
hadd("h-en-clean-1", "en", {}, """
EXT. BEACH - SUNSET
Grandma and Leo build a sandcastle. Waves lap at the moat.
LEO
Can we put a flag on top?
GRANDMA
Of course. Every castle needs a flag.
Leo runs to fetch a stick and a scrap of red paper. The sun sinks into the sea.
""", age="0+")
hadd("h-en-clean-2", "en", {}, """
INT. NEWSROOM - DAY
Editors hustle between desks. Phones ring.
EDITOR
We need the piece on the city budget by six. Give me a killer headline.
REPORTER
On it. I'll shoot you a draft in an hour.
""", age="0+", note="killer headline, shoot you a draft")
hadd("h-en-crime-1", "en", {"crime": "moderate", "violence": "moderate"}, """
INT. PAWN SHOP - NIGHT
Two masked men burst in. One points a pistol at the owner.
ROBBER
Open the register. Now!
The owner raises his hands. The second robber smashes the display case and grabs watches.
ROBBER (CONT'D)
Anybody moves, I shoot.
""")
hadd("h-en-drugs-1", "en", {"drugs": "moderate"}, """
INT. CAR - NIGHT
Danny ties off his arm, finds a vein and shoots up. He leans back, eyes rolling. The needle drops to the floor.
""")
hadd("h-en-drugs-2", "en", {"drugs": "mild"}, """
INT. KITCHEN - MORNING
MOM
I found this in your backpack. Is this weed?
TEEN
It's not mine! I swear, it's Jake's.
MOM
We're talking about this tonight. With your father.
""", optional=["family"])
hadd("h-en-alcohol-1", "en", {"alcohol": "moderate"}, """
INT. FRAT HOUSE - NIGHT
A keg in the middle of the room. College kids chug beer and chant. Tyler, already drunk, climbs onto the table and downs a bottle of vodka.
""")
hadd("h-en-obscene-1", "en", {"obscene": "moderate"}, """
INT. GARAGE - DAY
RICK
Fuck! Fucking thing won't start. This is bullshit.
He kicks the tire.
""", age="18+", optional=["violence", "language"])
hadd("h-en-sex-1", "en", {"sex": "severe"}, """
INT. BEDROOM - NIGHT
They undress each other slowly. Naked, they fall onto the bed and have sex. We see everything: her moans, his hands on her breasts.
""", age="18+")
hadd("h-en-suicide-1", "en", {"suicide": "severe"}, """
INT. GARAGE - NIGHT
Mark writes a suicide note and leaves it on the workbench. He ties a noose to the rafter and climbs onto the stool.
""", age="18+")
hadd("h-en-fear-1", "en", {"fear": "moderate"}, """
INT. BASEMENT - NIGHT
The flashlight flickers. Something moves in the darkness. A demon with glowing eyes crawls across the ceiling. Sarah screams and runs for the stairs.
""")
hadd("h-en-war-1", "en", {"violence": "moderate"}, """
EXT. BEACH - DAWN
Landing craft hit the shore. Machine gun fire. Soldiers fall into the surf. Explosions throw sand into the air. Sergeant Miller drags a wounded soldier behind a barrier.
""", optional=["gore", "death"])
hadd("h-en-gambling-1", "en", {"gambling": "mild"}, """
INT. KITCHEN - NIGHT
Dad scratches a lottery ticket with a coin. Nothing. He sighs and throws it in the trash.
""")
hadd("h-en-threat-1", "en", {"violence": "mild"}, """
INT. PARKING GARAGE - NIGHT
A man steps out of the shadows.
MAN
Stay away from the trial, counselor. Or your family gets hurt.
""")
hadd("h-en-negated-1", "en", {}, """
INT. AA MEETING - NIGHT
A circle of folding chairs.
GREG
My name is Greg and I haven't had a drink in three years.
GROUP
Hi, Greg.
""", optional=["alcohol"])
hadd("h-en-kids-1", "en", {}, """
INT. CLASSROOM - DAY
Ms. Park holds up a picture of a butterfly.
MS. PARK
Who can tell me what a caterpillar turns into?
Hands shoot up. Timmy nearly falls off his chair.
TIMMY
A butterfly!
""", age="0+", note="hands shoot up")
hadd("h-en-play-1", "en", {"violence": "moderate"}, """
ACT THREE
SCENE 2
The castle hall. Night. Torches. MACDUFF enters with drawn sword.
MACDUFF. Turn, hell-hound, turn!
MACBETH. Of all men else I have avoided thee. But get thee back; my soul is too much charged with blood of thine already.
They fight. MACBETH is slain.
""", optional=["gore", "language"])

with open(OUT, "w", encoding="utf-8") as f:
    for item in ITEMS:
        f.write(json.dumps(item, ensure_ascii=False) + "\n")
print(len(ITEMS))
